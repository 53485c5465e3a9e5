import { DistrictSchema, FAMILIES, type Family } from '@city/schema';
import { z } from 'zod';
import { ALMATY_DISTRICTS } from './build-fleet.ts';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** `"90s"`, `"10m"`, `"2.5h"`, `"1d"`, `"500ms"` in milliseconds; `undefined` when the text is not one. */
export function parseDurationMs(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]);
}

/** A duration written with its unit (a bare number would leave the unit to guess). */
const Duration = z
  .string({ error: 'must be a duration with a unit, e.g. "90s", "10m", "2h", "1d"' })
  .transform((text, ctx) => {
    const ms = parseDurationMs(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: 'must be a duration with a unit, e.g. "90s", "10m", "2h", "1d"' });
      return z.NEVER;
    }
    return ms;
  });

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** An instant of simulated time: ISO 8601 with a zone, or an offset from the scenario's start (`"+5h"`). */
export type SimInstant = { kind: 'absolute'; ms: number } | { kind: 'offset'; ms: number };

const SimInstantSchema = z.string().transform((text, ctx): SimInstant => {
  if (text.startsWith('+')) {
    const ms = parseDurationMs(text.slice(1));
    if (ms !== undefined) return { kind: 'offset', ms };
  } else if (ISO_WITH_ZONE.test(text) && Number.isFinite(Date.parse(text))) {
    return { kind: 'absolute', ms: Date.parse(text) };
  }
  ctx.addIssue({ code: 'custom', message: 'must be ISO 8601 with a zone ("2026-01-14T17:00:00+05:00") or an offset from the start ("+5h")' });
  return z.NEVER;
});

/** Where simulated time starts: `now` (live), `now-30d` (relative to the run), or ISO 8601 with a zone. */
export type ScenarioStart = { kind: 'now'; offsetMs: number } | { kind: 'absolute'; ms: number };

const StartSchema = z.string().transform((text, ctx): ScenarioStart => {
  if (text === 'now') return { kind: 'now', offsetMs: 0 };
  if (text.startsWith('now-')) {
    const ms = parseDurationMs(text.slice(4));
    if (ms !== undefined) return { kind: 'now', offsetMs: -ms };
  }
  if (ISO_WITH_ZONE.test(text) && Number.isFinite(Date.parse(text))) return { kind: 'absolute', ms: Date.parse(text) };
  ctx.addIssue({ code: 'custom', message: 'must be "now", "now-<duration>" (e.g. "now-2d") or ISO 8601 with a zone' });
  return z.NEVER;
});

const Share = z.number().min(0, { error: 'must be from 0 to 1' }).max(1, { error: 'must be from 0 to 1' });
const Rate = Share;

/** What every episode has: where, when, how many of the family's devices, and the alerts it should raise. */
const episodeBase = {
  /** District slugs; absent, the whole city. */
  districts: z.array(DistrictSchema).min(1).optional(),
  /** Share of the family's devices in those districts that are in it (chosen by the seed). */
  share: Share.default(1),
  from: SimInstantSchema,
  duration: Duration,
  /**
   * Alert rule ids this episode must raise on every device in it; the load command checks each was raised. Rules
   * whose signal needs more simulated time than the run covers belong in a longer run, not here.
   */
  expectAlerts: z.array(z.string().min(1)).default([]),
  /**
   * Simulated time after `from` by which those alerts must have been raised (a window rule needs its coverage, a
   * `forMs` rule its duration). A run whose simulated time ends earlier does not check them, and says so.
   */
  expectWithin: Duration.default(3_600_000),
};

export const EpisodeSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('smog'),
    ...episodeBase,
    /** PM2.5 at the height of the episode, µg/m³ (Almaty's worst winter evenings reach 300–500). */
    pm25Peak: z.number().min(50).max(1500),
    /** Time to build up to the peak, and to clear after it. */
    rise: Duration.default(3_600_000),
  }),
  z.strictObject({
    kind: z.literal('cold-snap'),
    ...episodeBase,
    /** How much colder than usual, K. */
    temperatureDropC: z.number().min(1).max(40),
  }),
  z.strictObject({ kind: z.literal('traffic-jam'), ...episodeBase }),
  z.strictObject({
    kind: z.literal('water-leak'),
    ...episodeBase,
    /** Water lost through the leak, L/h. */
    leakLph: z.number().min(0).max(100_000).default(400),
    /** Network pressure lost, bar (a main break takes most of it). */
    pressureDropBar: z.number().min(0).max(10).default(0),
  }),
  z.strictObject({
    kind: z.literal('voltage-sag'),
    ...episodeBase,
    /** Voltage during the sag, V (EN 50160: below 207 V is outside the ±10 % band). */
    voltageV: z.number().min(1).max(230),
  }),
  z.strictObject({ kind: z.literal('power-outage'), ...episodeBase }),
  z.strictObject({
    kind: z.literal('heating-failure'),
    ...episodeBase,
    /** How far the supply falls below its schedule, K. */
    supplyDropK: z.number().min(1).max(100),
  }),
]);
export type Episode = z.infer<typeof EpisodeSchema>;
export type EpisodeKind = Episode['kind'];

/** The family each kind of episode acts on; `undefined`: every family that measures the outdoors. */
export const EPISODE_FAMILIES: Readonly<Record<EpisodeKind, readonly Family[]>> = {
  smog: ['airquality', 'weather'],
  'cold-snap': ['airquality', 'weather', 'heating'],
  'traffic-jam': ['traffic'],
  'water-leak': ['water'],
  'voltage-sag': ['electricity'],
  'power-outage': ['electricity'],
  'heating-failure': ['heating'],
};

const DeviceGroupSchema = z.strictObject({
  count: z.number().int().min(0).max(100_000),
  /** Simulated time between two readings of one device. */
  interval: Duration.pipe(z.number().min(1000, { error: 'must be at least 1s' }).max(86_400_000, { error: 'must be at most 1d' })),
  /** Readings per message: above 1 the device sends a batch array every `readingsPerMessage` intervals. */
  readingsPerMessage: z.number().int().min(1).max(1000).default(1),
});
export type DeviceGroup = z.infer<typeof DeviceGroupSchema>;

export const FaultsSchema = z
  .strictObject({
    // Per message: the chance that it carries this fault (at most one fault per message).
    /** The whole payload is not JSON (truncated, single quotes, key=value…): `invalid_json`. */
    malformedJson: Rate.default(0),
    /** One reading breaks the family schema: a wrong type, an unknown field, no metric. */
    schemaViolation: Rate.default(0),
    /** One reading holds a value outside its metric's physical range (a unit mistake): `out_of_range`. */
    outOfRange: Rate.default(0),
    /** The message is published twice (firmware retrying at the application level): stored once. */
    duplicate: Rate.default(0),
    /** A delayed reading, older than ones already sent, rides along: stored. */
    outOfOrder: Rate.default(0),
    /** A reading from the device's buffer, minutes to an hour old, rides along: stored, marked late. */
    late: Rate.default(0),
    /** One reading is stamped by a bad clock: hours ahead, days behind, or reset to 1970. */
    clockSkew: Rate.default(0),
    /** The payload is over the broker's MAX_PAYLOAD_BYTES (a firmware dumping its log): `payload_too_large`. */
    oversize: Rate.default(0),
    // Per device: the share of the fleet with this trouble.
    /** Sensors frozen at one value from a random moment on (valid readings, wrong). */
    stuckSensors: Share.default(0),
    /** Sensors whose reading drifts away, within the plausible range (valid readings, wrong). */
    driftingSensors: Share.default(0),
    /** Devices whose first CONNECT carries a wrong token (CONNACK 0x04); they retry with the right one. */
    wrongCredentials: Share.default(0),
    /** Devices that go silent for a while, in run (wall-clock) time: deadman rules should notice. */
    silentDevices: z
      .object({ share: Share, after: Duration, for: Duration.optional() })
      .optional(),
    /** Every `every` of run time, `share` of the connections drop at once and reconnect (a network blip). */
    reconnectStorms: z.strictObject({ every: Duration, share: Share }).optional(),
  })
  .superRefine((f, ctx) => {
    const perMessage = f.malformedJson + f.schemaViolation + f.outOfRange + f.duplicate + f.outOfOrder + f.late + f.clockSkew + f.oversize;
    if (perMessage > 1) ctx.addIssue({ code: 'custom', message: `the per-message fault rates add up to ${perMessage}; at most 1` });
  });
export type Faults = z.infer<typeof FaultsSchema>;

export const ScenarioSchema = z
  .strictObject({
    /** A slug: names the report folder. */
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { error: 'lowercase letters, digits and -' }),
    description: z.string().optional(),
    /** Same seed, same fleet, same readings, same faults. */
    seed: z.number().int().min(0).max(0xffff_ffff).default(1),
    /** The city's offset from UTC (rush hours, heating peaks, night-flow hours). Kazakhstan: 300. */
    utcOffsetMinutes: z.number().int().min(-720).max(840).default(300),
    /** Added to every outdoor temperature: the generators model Almaty; Astana's winters are ~8 K colder. */
    climate: z.strictObject({ temperatureOffsetC: z.number().min(-40).max(40).default(0) }).default({ temperatureOffsetC: 0 }),
    districts: z.array(DistrictSchema).min(1).default([...ALMATY_DISTRICTS]),
    time: z.strictObject({
      start: StartSchema,
      /** Simulated seconds per real second; `--rate` replaces it. With `start: now` it must be 1 (live time). */
      acceleration: z.number().positive().max(10_000_000).default(1),
    }),
    devices: z.partialRecord(z.enum(FAMILIES), DeviceGroupSchema),
    qos: z.union([z.literal(0), z.literal(1)]).default(1),
    /** Unacknowledged QoS 1 messages a device may have at once; more waits (and is counted as lag). */
    inFlightWindow: z.number().int().min(1).max(1000).default(8),
    episodes: z.array(EpisodeSchema).default([]),
    faults: FaultsSchema.default(FaultsSchema.parse({})),
  })
  .superRefine((s, ctx) => {
    const problem = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    const total = Object.values(s.devices).reduce((n, g) => n + (g?.count ?? 0), 0);
    if (total === 0) problem(['devices'], 'needs at least one device (a family with count > 0)');
    if (s.time.start.kind === 'now' && s.time.start.offsetMs === 0 && s.time.acceleration !== 1) {
      problem(['time', 'acceleration'], 'must be 1 with start "now": simulated time would run into the future (start in the past, e.g. "now-2d", to accelerate)');
    }
    const known = new Set(s.districts);
    s.episodes.forEach((episode, i) => {
      episode.districts?.forEach((d, j) => {
        if (!known.has(d)) problem(['episodes', i, 'districts', j], `"${d}" is not one of the scenario's districts (${s.districts.join(', ')})`);
      });
      const families = EPISODE_FAMILIES[episode.kind];
      if (!families.some((f) => (s.devices[f]?.count ?? 0) > 0)) {
        problem(['episodes', i, 'kind'], `${episode.kind} acts on ${families.join(', ')}, and the scenario has none of those devices`);
      }
    });
  });

/** A scenario as written (durations already in ms). */
export type Scenario = z.infer<typeof ScenarioSchema>;
