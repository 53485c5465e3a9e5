import { MAX_EXPECTED_INTERVAL_MS, MIN_EXPECTED_INTERVAL_MS, type DeviceRegistry } from '@city/registry';
import type { SimDevice } from './build-fleet.ts';

export interface ProvisionedFleet {
  /** Device id → the token it logs in with. */
  tokens: Map<string, string>;
  added: number;
  /** Registered before, and given a new token (no working one was known). */
  rotated: number;
  /** Registered before, with a known token that still works. */
  reused: number;
}

/**
 * Registers a simulated fleet in the device registry, idempotently: new devices are added; registered ones get the
 * fleet's family, district and interval, and keep the token in `known` if it still works, else get a new one (the
 * registry keeps only hashes, so a lost token cannot be recovered, only replaced).
 */
export async function provisionFleet(
  registry: DeviceRegistry,
  devices: readonly SimDevice[],
  { known = new Map<string, string>(), expectedIntervalMs }: { known?: ReadonlyMap<string, string>; expectedIntervalMs?: number } = {},
): Promise<ProvisionedFleet> {
  const result = await registry.importDevices(
    devices.map((d) => ({
      id: d.deviceId,
      family: d.family,
      district: d.district,
      enabled: true,
      // The registry's bounds; a simulator may fire faster than any real device reports.
      ...(expectedIntervalMs !== undefined ? { expectedIntervalMs: Math.min(Math.max(expectedIntervalMs, MIN_EXPECTED_INTERVAL_MS), MAX_EXPECTED_INTERVAL_MS) } : {}),
    })),
    { existing: 'update' },
  );
  const tokens = new Map(result.added.map(({ id, token }) => [id, token]));
  let rotated = 0;
  let reused = 0;
  for (const id of result.updated) {
    const token = known.get(id);
    if (token !== undefined && (await registry.verifyDevice(id, token)).ok) {
      tokens.set(id, token);
      reused++;
      continue;
    }
    const fresh = await registry.rotateDeviceToken(id);
    if (fresh !== undefined) {
      tokens.set(id, fresh);
      rotated++;
    }
  }
  return { tokens, added: result.added.length, rotated, reused };
}
