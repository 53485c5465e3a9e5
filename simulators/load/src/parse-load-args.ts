import { parseArgs } from 'node:util';
import { parseDurationMs } from '@city/simulator';
import { z } from 'zod';

export const USAGE = `Usage:
  pnpm load [run] --scenario <name|file> [options]     a load run: its own broker and worker, verified, reported
  pnpm load idle --connections <n[,n…]> [options]      broker RSS per idle authenticated connection
  pnpm bench                                           our pipeline against Mosquitto + a plain subscriber

Run options:
  --scenario <name|file>     a file (.yaml/.json), or a name in simulators/city/scenarios/   [steady-load]
  --rate <n|max>             readings per second (replaces the scenario's acceleration); max: each device as
                             fast as its in-flight window allows (closed loop)                [the scenario's]
  --duration <d>             how long the schedule runs, e.g. 60s, 5m                          [60s]
  --ramp <d>                 ramp from 5 % of the rate up to it over this long, then hold     [0s]
  --qos <0|1>                replaces the scenario's QoS
  --window <n>               in-flight QoS 1 messages per device
  --batch <n>                readings per message for every device (a JSON batch array above 1)
  --scale <x>                multiplies every family's device count
  --no-faults                drop every fault of the scenario (benchmarks)
  --rules <file|none>        the worker's alert rules; none = storage only                    [config/alert-rules.json]
  --profile                  node --cpu-prof the broker and the worker; the report lists their hottest functions
  --label <text>             a name for the run in the report
  --keep                     keep the run's InfluxDB database and Redis keys
  --report-dir <dir>         where run folders go                                             [reports/load]
  --redis-url <url>          [REDIS_URL, else redis://127.0.0.1:6379: the dev profile, started if down]
  --influx-url <url>         InfluxDB 1.x                                                     [INFLUX_URL, else http://127.0.0.1:8086]

Idle options:
  --connections <list>       connection counts to measure, ascending                         [1000,5000,10000]
  --redis-url, --report-dir  as above

Each run writes report.json, report.md and chart.png to reports/load/<time>-<scenario>/ and exits 0 when the
verification passed, 1 when it did not, 2 on bad options.`;

const rate = z.union([z.literal('max'), z.coerce.number().positive({ error: 'must be a number of readings per second > 0, or max' })]);
const duration = (min: number) =>
  z.string().transform((text, ctx) => {
    const ms = parseDurationMs(text);
    if (ms === undefined || ms < min) {
      ctx.addIssue({ code: 'custom', message: `must be a duration of at least ${min / 1000}s, e.g. 60s or 5m` });
      return z.NEVER;
    }
    return ms;
  });
const url = (protocols: RegExp, example: string) => z.url({ protocol: protocols, error: `must be a URL like ${example}` });

const RunSchema = z.object({
  scenario: z.string().min(1).default('steady-load'),
  rate: rate.optional(),
  duration: duration(1000).default(60_000),
  ramp: duration(0).default(0),
  qos: z.enum(['0', '1'], { error: 'must be 0 or 1' }).transform((q): 0 | 1 => (q === '1' ? 1 : 0)).optional(),
  window: z.coerce.number().int().min(1).max(1000).optional(),
  batch: z.coerce.number().int().min(1).max(1000).optional(),
  scale: z.coerce.number().positive().max(1000).optional(),
  noFaults: z.boolean().default(false),
  rules: z.string().min(1).optional(),
  profile: z.boolean().default(false),
  label: z.string().min(1).max(60).optional(),
  keep: z.boolean().default(false),
  reportDir: z.string().min(1).optional(),
  redisUrl: url(/^rediss?$/, 'redis://127.0.0.1:6379').optional(),
  influxUrl: url(/^https?$/, 'http://127.0.0.1:8086').optional(),
});
export type RunArgs = z.infer<typeof RunSchema>;

const IdleSchema = z.object({
  connections: z
    .string()
    .default('1000,5000,10000')
    .transform((s) => s.split(',').map((x) => Number(x.trim())))
    .pipe(z.array(z.number().int().min(1).max(60_000)).min(1)),
  redisUrl: url(/^rediss?$/, 'redis://127.0.0.1:6379').optional(),
  reportDir: z.string().min(1).optional(),
});
export type IdleArgs = z.infer<typeof IdleSchema>;

export type ParsedLoadArgs = { kind: 'run'; args: RunArgs } | { kind: 'idle'; args: IdleArgs } | { kind: 'help' } | { kind: 'error'; problems: string[] };

const FLAGS = {
  scenario: 'string', rate: 'string', duration: 'string', ramp: 'string', qos: 'string', window: 'string', batch: 'string', scale: 'string',
  'no-faults': 'boolean', rules: 'string', profile: 'boolean', label: 'string', keep: 'boolean', 'report-dir': 'string', 'redis-url': 'string',
  'influx-url': 'string', connections: 'string', help: 'boolean',
} as const;

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The command line, checked; every problem listed, named by its flag. Pure. */
export function parseLoadArgs(argv: readonly string[]): ParsedLoadArgs {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      options: Object.fromEntries(Object.entries(FLAGS).map(([flag, type]) => [flag, { type, ...(flag === 'help' ? { short: 'h' } : {}) }])),
      strict: true,
      allowPositionals: true,
    }));
  } catch (err) {
    return { kind: 'error', problems: [(err as Error).message] };
  }
  if (values.help === true) return { kind: 'help' };
  const command = positionals[0] ?? 'run';
  if (positionals.length > 1 || !['run', 'idle'].includes(command)) return { kind: 'error', problems: [`unknown command "${positionals.join(' ')}": run or idle`] };
  const raw = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined).map(([k, v]) => [camel(k), v]));
  const schema = command === 'idle' ? IdleSchema.strict() : RunSchema.strict();
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    return {
      kind: 'error',
      problems: parsed.error.issues.map((issue) =>
        issue.code === 'unrecognized_keys' ? `${issue.keys.map((k) => `--${kebab(k)}`).join(', ')}: not an option of "${command}"` : `--${kebab(String(issue.path[0]))}: ${issue.message} (got ${JSON.stringify(raw[String(issue.path[0])])})`,
      ),
    };
  }
  return command === 'idle' ? { kind: 'idle', args: parsed.data as IdleArgs } : { kind: 'run', args: parsed.data as RunArgs };
}
