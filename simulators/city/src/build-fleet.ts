import { DEVICE_ID_PATTERN, DistrictSchema, FAMILIES, type Family } from '@city/schema';
import { createRng, hashSeed, type Rng } from './random.ts';

/** One simulated device: what it measures, what it is called, where it stands. */
export interface SimDevice {
  deviceId: string;
  family: Family;
  district: string;
}

/** Almaty's eight districts (audany), as district slugs. */
export const ALMATY_DISTRICTS = [
  'almaly',
  'auezov',
  'bostandyk',
  'zhetysu',
  'medeu',
  'nauryzbay',
  'alatau',
  'turksib',
] as const;

/** Device ids read `{prefix}-{district}-{nnnn}`, e.g. `aq-almaly-0007`. */
export const FAMILY_ID_PREFIXES: Readonly<Record<Family, string>> = {
  traffic: 'trf',
  airquality: 'aq',
  water: 'wtr',
  electricity: 'elc',
  noise: 'nse',
  weather: 'wx',
  gas: 'gas',
  heating: 'dh',
  parking: 'prk',
};

export interface BuildFleetOptions {
  /**
   * Devices of each family.
   * @defaultValue 5
   */
  devicesPerFamily?: number;
  /**
   * Which families the fleet has.
   * @defaultValue every family in `FAMILIES`
   */
  families?: readonly Family[];
  /**
   * District slugs the devices are spread over, evenly.
   * @defaultValue {@link ALMATY_DISTRICTS}
   */
  districts?: readonly string[];
  /**
   * Decides which district gets which device number; the same seed builds the same fleet.
   * @defaultValue 1
   */
  seed?: number;
}

function shuffled<T>(items: readonly T[], rng: Rng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/**
 * The device list for a simulated city: `devicesPerFamily` of each family, spread round-robin over the districts
 * (in a seeded order, so small fleets do not all land in the first district). Numbers count per family from 1,
 * so ids stay unique whatever the district.
 * Throws a `RangeError` for options no fleet can have (a bad district slug, a negative count).
 */
export function buildFleet(options: BuildFleetOptions = {}): SimDevice[] {
  const { devicesPerFamily = 5, families = FAMILIES, districts = ALMATY_DISTRICTS, seed = 1 } = options;
  if (!Number.isInteger(devicesPerFamily) || devicesPerFamily < 0) {
    throw new RangeError(`devicesPerFamily must be a whole number >= 0, got ${devicesPerFamily}`);
  }
  if (districts.length === 0) throw new RangeError('at least one district is needed');
  for (const district of districts) {
    if (!DistrictSchema.safeParse(district).success)
      throw new RangeError(`district "${district}" is not a lowercase slug`);
  }
  const digits = Math.max(4, String(devicesPerFamily).length);
  const fleet: SimDevice[] = [];
  for (const family of new Set(families)) {
    const order = shuffled(districts, createRng(hashSeed(seed, family)));
    for (let n = 1; n <= devicesPerFamily; n++) {
      const district = order[(n - 1) % order.length] as string;
      const deviceId = `${FAMILY_ID_PREFIXES[family]}-${district}-${String(n).padStart(digits, '0')}`;
      if (!DEVICE_ID_PATTERN.test(deviceId))
        throw new RangeError(`device id "${deviceId}" does not match ${DEVICE_ID_PATTERN.source}`);
      fleet.push({ deviceId, family, district });
    }
  }
  return fleet;
}
