import { parseArgs } from 'node:util';
import { DistrictSchema, FAMILIES } from '@city/schema';
import { z } from 'zod';
import { ALMATY_DISTRICTS } from './build-fleet.ts';
import type { TimestampFormat } from './generate-reading.ts';

export const USAGE = `Usage: city-sim [options]

Simulates a city's sensor fleet publishing telemetry over MQTT (topics city/v1/{family}/{deviceId}/telemetry).

Options:
  --url <url>                  broker URL                                  [mqtt://127.0.0.1:1883]
  --devices <n>                devices per family                          [5]
  --families <list>            comma-separated: ${FAMILIES.join(',')}  [all]
  --districts <list>           comma-separated district slugs              [${ALMATY_DISTRICTS.join(',')}]
  --interval-ms <ms>           time between two messages of one device     [1000]
  --duration-s <s>             stop after this long; 0 = until SIGINT/SIGTERM [0]
  --qos <0|1>                  MQTT QoS of every publish                   [1]
  --batch-size <n>             readings per message (JSON array when > 1)  [1]
  --invalid-rate <0..1>        share of messages that are invalid          [0]
  --over-threshold-rate <0..1> share of messages with an over-threshold reading [0]
  --seed <n>                   same seed, same readings                    [1]
  --ts-format <ms|iso|none>    how readings carry their event time         [ms]
  -h, --help                   show this help

Credentials: the broker lets in only registered devices, each with its own token (username = client id = device id).
  --provision                  register the fleet in the device registry first: new devices are added, registered
                               ones get the fleet's family and district and a new token, unless --credentials-file
                               holds one that still works (then it is reused: runs are idempotent)
  --redis-url <url>            the registry's Redis, for --provision       [redis://127.0.0.1:6379]
  --prefix <prefix>            the deployment's key prefix (QUEUE_PREFIX)  [city]
  --credentials-file <path>    JSON {"<deviceId>": "<token>", ...}: the tokens devices log in with; --provision
                               (re)writes it (mode 600) with the tokens in use

Progress goes to stderr every 5 s; the final summary is one JSON object on stdout.
Exit codes: 0 done, 1 QoS 1 and the broker acknowledged nothing (or --provision failed), 2 bad options.`;

const TS_FORMATS = { ms: 'epoch-ms', iso: 'iso', none: 'none' } as const satisfies Record<string, TimestampFormat>;

const list = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

const rate = z.coerce.number().min(0).max(1);

const CliOptionsSchema = z.object({
  url: z.url({
    protocol: /^(mqtt|mqtts|tcp|tls|ssl|ws|wss)$/,
    error: 'must be a broker URL like mqtt://127.0.0.1:1883',
  }),
  devices: z.coerce.number().int().min(0).max(100_000),
  families: z
    .string()
    .transform(list)
    .pipe(z.array(z.enum(FAMILIES, { error: `each family must be one of ${FAMILIES.join(', ')}` })).min(1)),
  districts: z.string().transform(list).pipe(z.array(DistrictSchema).min(1)),
  intervalMs: z.coerce.number().int().min(1),
  durationS: z.coerce.number().min(0),
  qos: z.enum(['0', '1'], { error: 'must be 0 or 1' }).transform((q) => (q === '1' ? 1 : 0)),
  batchSize: z.coerce.number().int().min(1).max(10_000),
  invalidRate: rate,
  overThresholdRate: rate,
  seed: z.coerce.number().int().min(0).max(0xffff_ffff),
  tsFormat: z.enum(['ms', 'iso', 'none'], { error: 'must be ms, iso or none' }).transform((f) => TS_FORMATS[f]),
  provision: z.literal(true).optional(),
  redisUrl: z.url({ protocol: /^rediss?$/, error: 'must be a Redis URL like redis://127.0.0.1:6379' }).optional(),
  prefix: z.string().regex(/^[A-Za-z0-9_-]+$/, { error: 'letters, digits, _ and - only' }).optional(),
  credentialsFile: z.string().min(1).optional(),
});

export type CliOptions = z.infer<typeof CliOptionsSchema>;

export type ParsedCli = { kind: 'run'; options: CliOptions } | { kind: 'help' } | { kind: 'error'; problems: string[] };

/** Flags without a default: absent from the options unless given. */
const OPTIONAL_FLAGS = { redisUrl: 'redis-url', prefix: 'prefix', credentialsFile: 'credentials-file' } as const;
const FLAG_NAMES: Record<string, string> = { provision: 'provision', ...OPTIONAL_FLAGS };

const FLAGS: Record<Exclude<keyof CliOptions, 'provision' | keyof typeof OPTIONAL_FLAGS>, { flag: string; default: string }> = {
  url: { flag: 'url', default: 'mqtt://127.0.0.1:1883' },
  devices: { flag: 'devices', default: '5' },
  families: { flag: 'families', default: FAMILIES.join(',') },
  districts: { flag: 'districts', default: ALMATY_DISTRICTS.join(',') },
  intervalMs: { flag: 'interval-ms', default: '1000' },
  durationS: { flag: 'duration-s', default: '0' },
  qos: { flag: 'qos', default: '1' },
  batchSize: { flag: 'batch-size', default: '1' },
  invalidRate: { flag: 'invalid-rate', default: '0' },
  overThresholdRate: { flag: 'over-threshold-rate', default: '0' },
  seed: { flag: 'seed', default: '1' },
  tsFormat: { flag: 'ts-format', default: 'ms' },
};

/** The command line, checked: every problem is listed at once, named by its flag. Pure: no exit, no printing. */
export function parseCliArgs(args: readonly string[]): ParsedCli {
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries(Object.values(FLAGS).map(({ flag }) => [flag, { type: 'string' as const }]));
    ({ values } = parseArgs({
      args: [...args],
      options: {
        ...options,
        ...Object.fromEntries(Object.values(OPTIONAL_FLAGS).map((flag) => [flag, { type: 'string' as const }])),
        provision: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    return { kind: 'error', problems: [(err as Error).message] };
  }
  if (values.help === true) return { kind: 'help' };

  const raw: Record<string, unknown> = Object.fromEntries(
    Object.entries(FLAGS).map(([key, { flag, default: fallback }]) => [
      key,
      (values[flag] as string | undefined) ?? fallback,
    ]),
  );
  for (const [key, flag] of Object.entries(OPTIONAL_FLAGS)) if (values[flag] !== undefined) raw[key] = values[flag];
  if (values.provision === true) raw.provision = true;
  const parsed = CliOptionsSchema.safeParse(raw);
  if (parsed.success) return { kind: 'run', options: parsed.data };
  return {
    kind: 'error',
    problems: parsed.error.issues.map((issue) => {
      const key = issue.path[0] as keyof CliOptions | undefined;
      const flag = key === undefined ? '' : `--${key in FLAGS ? FLAGS[key as keyof typeof FLAGS].flag : FLAG_NAMES[key]}`;
      const item = issue.path.length > 1 ? ` (item ${String(issue.path[1])})` : '';
      return `${flag}${item}: ${issue.message} (got ${JSON.stringify(key === undefined ? undefined : raw[key])})`;
    }),
  };
}
