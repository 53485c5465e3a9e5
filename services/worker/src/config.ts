import { z } from 'zod';
import { envInt, envLogLevel, envUrl, loadConfig } from '@city/config';
import { WebhooksEnvSchema } from './alerts/webhooks.ts';

/** Every setting of the worker, from the environment. */
export const WorkerEnvSchema = z
  .object({
    REDIS_URL: envUrl('redis://127.0.0.1:6379', ['redis', 'rediss']),
    QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/, { message: 'letters, digits, _ and - only' }).default('city'),
    /** `v1`: InfluxDB 1.x `/write?db=` (Debian's 1.6.7). `v2`: `/api/v2/write` (InfluxDB 1.8+, 2.x, 3.x, Cloud). */
    INFLUX_API: z.enum(['v1', 'v2']).default('v1'),
    INFLUX_URL: envUrl('http://127.0.0.1:8086', ['http', 'https']),
    INFLUX_DB: z.string().optional(),
    INFLUX_RETENTION_POLICY: z.string().optional(),
    INFLUX_USERNAME: z.string().optional(),
    INFLUX_PASSWORD: z.string().optional(),
    INFLUX_TOKEN: z.string().optional(),
    INFLUX_ORG: z.string().optional(),
    INFLUX_BUCKET: z.string().optional(),
    INFLUX_TIMEOUT_MS: envInt(10_000, { min: 100, max: 300_000 }),
    /** Telemetry jobs processed at once by this process; their lines are coalesced into shared writes. */
    STORAGE_CONCURRENCY: envInt(64, { min: 1, max: 1024 }),
    /** A write to the database goes out at this many lines (whole jobs)… */
    STORAGE_WRITE_MAX_LINES: envInt(5000, { min: 1, max: 100_000 }),
    /** …or this long after its first job arrived… */
    STORAGE_WRITE_MAX_DELAY_MS: envInt(5, { min: 0, max: 10_000 }),
    /** …and only while fewer writes than this are in flight: jobs that arrive meanwhile join the next write. */
    STORAGE_MAX_CONCURRENT_WRITES: envInt(2, { min: 1, max: 64 }),
    /** The pause after the database failed (network, 429, 503, 5xx): from this, doubling per failure in a row… */
    STORAGE_RETRY_BASE_MS: envInt(250, { min: 1, max: 600_000 }),
    /** …up to this. No attempt is used while the database is unavailable, however long. */
    STORAGE_RETRY_MAX_MS: envInt(30_000, { min: 1, max: 3_600_000 }),
    /** A job whose worker died is taken over after its lock went unrenewed this long. */
    STORAGE_LOCK_DURATION_MS: envInt(30_000, { min: 1000, max: 600_000 }),
    /** Operators get a "pipeline degraded" alert once the database has failed for this long. */
    PIPELINE_DEGRADED_AFTER_MS: envInt(60_000, { min: 0, max: 86_400_000 }),
    ALERT_RULES_FILE: z.string().default('config/alert-rules.json'),
    /** The broker, where alerts are published for operators. */
    ALERT_MQTT_URL: envUrl('mqtt://127.0.0.1:1883', ['mqtt', 'mqtts', 'ws', 'wss']),
    ALERT_MQTT_USERNAME: z.string().optional(),
    ALERT_MQTT_PASSWORD: z.string().optional(),
    /** JSON array of webhooks for alert events: `[{"id","url","secret","minSeverity"?,"transitions"?,"rules"?}]`. */
    ALERT_WEBHOOKS: WebhooksEnvSchema,
    /** How often one worker checks for silent devices (deadman rules). */
    ALERT_SWEEP_INTERVAL_MS: envInt(5000, { min: 100, max: 3_600_000 }),
    /** How late a reading may be and still take its event-time place in an alert's state (rules may override). */
    ALERT_ALLOWED_LATENESS_MS: envInt(300_000, { min: 0, max: 86_400_000 }),
    /** Which roles this process runs: `storage` (telemetry → InfluxDB, rules) and/or `alerts` (alert delivery). */
    WORKER_ROLES: z
      .string()
      .default('storage,alerts')
      .transform((s) => s.split(',').map((r) => r.trim()).filter(Boolean))
      .pipe(z.array(z.enum(['storage', 'alerts'])).min(1, { message: 'name at least one of storage, alerts' })),
    OPS_HOST: z.string().default('127.0.0.1'),
    OPS_PORT: envInt(9102, { min: 0, max: 65535 }),
    LOG_LEVEL: envLogLevel,
  })
  // `when`: run even when other fields failed, so one start lists every problem.
  .superRefine(
    (env, ctx) => {
      const need = (name: 'INFLUX_DB' | 'INFLUX_ORG' | 'INFLUX_BUCKET', why: string) => {
        if (!env[name]) ctx.addIssue({ code: 'custom', path: [name], message: `required ${why}`, input: env[name] });
      };
      if (env.INFLUX_API === 'v1') need('INFLUX_DB', 'with INFLUX_API=v1 (the database to write to)');
      if (env.INFLUX_API === 'v2') {
        need('INFLUX_ORG', 'with INFLUX_API=v2');
        need('INFLUX_BUCKET', 'with INFLUX_API=v2');
      }
      if (typeof env.STORAGE_RETRY_BASE_MS === 'number' && typeof env.STORAGE_RETRY_MAX_MS === 'number' && env.STORAGE_RETRY_MAX_MS < env.STORAGE_RETRY_BASE_MS) {
        ctx.addIssue({ code: 'custom', path: ['STORAGE_RETRY_MAX_MS'], message: `must be at least STORAGE_RETRY_BASE_MS (${env.STORAGE_RETRY_BASE_MS})`, input: env.STORAGE_RETRY_MAX_MS });
      }
    },
    { when: () => true },
  );

export type WorkerConfig = z.infer<typeof WorkerEnvSchema>;

export function loadWorkerConfig(env: Record<string, string | undefined>): WorkerConfig {
  return loadConfig(WorkerEnvSchema, env);
}
