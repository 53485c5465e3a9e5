import { z } from 'zod';
import { envInt, envLogLevel, envUrl, loadConfig } from '@city/config';
import { EVENT_TIME_DEFAULTS } from '@city/schema';

/** Every setting of the broker, from the environment. Defaults suit one machine on loopback. */
export const BrokerEnvSchema = z.object({
  MQTT_HOST: z.string().default('127.0.0.1'),
  MQTT_PORT: envInt(1883, { min: 0, max: 65535 }),
  /** MQTT over TLS: on when MQTT_TLS_CERT_FILE and MQTT_TLS_KEY_FILE are set (PEM files). */
  MQTT_TLS_HOST: z.string().optional(),
  MQTT_TLS_PORT: envInt(8883, { min: 0, max: 65535 }),
  MQTT_TLS_CERT_FILE: z.string().optional(),
  MQTT_TLS_KEY_FILE: z.string().optional(),
  /** CA (PEM) that client certificates must chain to; needed when MQTT_TLS_CLIENT_CERTS is not `off`. */
  MQTT_TLS_CA_FILE: z.string().optional(),
  /** `off`: token logins only. `optional`: a client certificate from the CA logs in as its CN; `required`: no certificate, no TLS. */
  MQTT_TLS_CLIENT_CERTS: z.enum(['off', 'optional', 'required']).default('off'),
  /** MQTT over WebSocket (gateways, browsers): on when MQTT_WS_PORT is set. */
  MQTT_WS_HOST: z.string().optional(),
  MQTT_WS_PORT: z
    .string()
    .regex(/^\d{1,5}$/, { message: 'must be a whole number from 0 to 65535' })
    .transform(Number)
    .refine((n) => n <= 65535, { message: 'must be a whole number from 0 to 65535' })
    .optional(),
  MQTT_WS_PATH: z.string().regex(/^\/\S*$/, { message: 'must start with /' }).default('/mqtt'),
  /** `true`: the WebSocket listener speaks TLS (wss:) with the MQTT_TLS_* certificate and client-certificate mode. */
  MQTT_WS_TLS: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  /** Cached credentials are re-read after this long even if no registry change notice arrived. */
  AUTH_CACHE_TTL_MS: envInt(30_000, { min: 0, max: 3_600_000 }),
  /** Devices' last-seen times are written to the registry at most this often (batched). */
  LAST_SEEN_FLUSH_MS: envInt(10_000, { min: 100, max: 3_600_000 }),
  REDIS_URL: envUrl('redis://127.0.0.1:6379', ['redis', 'rediss']),
  /** Prefix of every Redis key (queues, dead letters); lets several deployments share one Redis. */
  QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/, { message: 'letters, digits, _ and - only' }).default('city'),
  /** Flush a micro-batch to Redis at this many readings… */
  BATCH_MAX_READINGS: envInt(500, { min: 1, max: 10_000 }),
  /** …or this long after its first reading, whichever comes first. */
  BATCH_MAX_DELAY_MS: envInt(20, { min: 0, max: 10_000 }),
  /** A batch not in Redis by then fails: its publishers get no PUBACK and are disconnected, so they resend. */
  ENQUEUE_TIMEOUT_MS: envInt(5000, { min: 100, max: 120_000 }),
  MAX_PAYLOAD_BYTES: envInt(262_144, { min: 64, max: 16 * 1024 * 1024 }),
  MAX_READINGS_PER_MESSAGE: envInt(1000, { min: 1, max: 100_000 }),
  /** Event times later than the receive time by more than this are rejected (`timestamp_in_future`). */
  EVENT_TIME_MAX_FUTURE_MS: envInt(EVENT_TIME_DEFAULTS.maxFutureMs, { min: 0, max: 366 * 86_400_000 }),
  /** Event times earlier than the receive time by more than this are rejected (`timestamp_too_old`). */
  EVENT_TIME_MAX_AGE_MS: envInt(EVENT_TIME_DEFAULTS.maxAgeMs, { min: 1000, max: 10 * 366 * 86_400_000 }),
  /** Accepted event times older than this are stored with `late=true`. */
  EVENT_TIME_LATE_AFTER_MS: envInt(EVENT_TIME_DEFAULTS.lateAfterMs, { min: 0, max: 10 * 366 * 86_400_000 }),
  /** A QoS 1 message resent within this long after its first delivery keeps the first receive time. */
  RESEND_WINDOW_MS: envInt(120_000, { min: 0, max: 86_400_000 }),
  DEAD_LETTER_MAX_ENTRIES: envInt(100_000, { min: 100, max: 100_000_000 }),
  /** Backpressure (README "Reliability"): hold telemetry publishes when this many telemetry jobs wait… */
  BACKPRESSURE_BACKLOG_HIGH_JOBS: envInt(20_000, { min: 1, max: 100_000_000 }),
  /** …until no more than this many wait. */
  BACKPRESSURE_BACKLOG_LOW_JOBS: envInt(10_000, { min: 0, max: 100_000_000 }),
  /** Also hold them when Redis' used_memory reaches this percentage of its maxmemory… */
  BACKPRESSURE_MEMORY_HIGH_PERCENT: envInt(80, { min: 1, max: 100 }),
  /** …until it is back at or below this percentage. */
  BACKPRESSURE_MEMORY_LOW_PERCENT: envInt(70, { min: 0, max: 99 }),
  /** How often the backlog and Redis memory are read. */
  BACKPRESSURE_SAMPLE_MS: envInt(250, { min: 10, max: 60_000 }),
  /** Client limits (limits/client-limits.ts; README "## Limits"). Largest MQTT packet, cut from its fixed header. */
  MAX_PACKET_BYTES: envInt(524_288, { min: 1024, max: 268_435_460 }),
  /** Bytes a client may send before its CONNACK (its CONNECT, and anything it sends before the answer). */
  MAX_BYTES_BEFORE_CONNACK: envInt(8192, { min: 256, max: 1_048_576 }),
  MAX_CLIENT_ID_LENGTH: envInt(64, { min: 23, max: 65_535 }),
  CONNECT_TIMEOUT_MS: envInt(10_000, { min: 100, max: 600_000 }),
  MAX_CONNECTIONS: envInt(10_000, { min: 1, max: 10_000_000 }),
  CONNECTS_PER_SECOND_PER_ADDRESS: envInt(20, { min: 1, max: 1_000_000 }),
  CONNECT_BURST_PER_ADDRESS: envInt(100, { min: 1, max: 1_000_000 }),
  PUBLISHES_PER_SECOND_PER_CLIENT: envInt(20, { min: 1, max: 1_000_000 }),
  PUBLISH_BURST_PER_CLIENT: envInt(200, { min: 1, max: 1_000_000 }),
  MAX_QUEUED_MESSAGES_PER_SESSION: envInt(1000, { min: 1, max: 10_000_000 }),
  OPS_HOST: z.string().default('127.0.0.1'),
  OPS_PORT: envInt(9101, { min: 0, max: 65535 }),
  LOG_LEVEL: envLogLevel,
}).superRefine(
  (env, ctx) => {
    const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    const tlsFiles = Boolean(env.MQTT_TLS_CERT_FILE) && Boolean(env.MQTT_TLS_KEY_FILE);
    if (Boolean(env.MQTT_TLS_CERT_FILE) !== Boolean(env.MQTT_TLS_KEY_FILE)) {
      problem(env.MQTT_TLS_CERT_FILE ? 'MQTT_TLS_KEY_FILE' : 'MQTT_TLS_CERT_FILE', 'required with the other of MQTT_TLS_CERT_FILE, MQTT_TLS_KEY_FILE');
    }
    if (env.MQTT_TLS_CLIENT_CERTS !== 'off' && env.MQTT_TLS_CLIENT_CERTS !== undefined) {
      if (!env.MQTT_TLS_CA_FILE) problem('MQTT_TLS_CA_FILE', `required with MQTT_TLS_CLIENT_CERTS=${env.MQTT_TLS_CLIENT_CERTS} (the CA client certificates chain to)`);
      if (!tlsFiles) problem('MQTT_TLS_CLIENT_CERTS', 'needs MQTT_TLS_CERT_FILE and MQTT_TLS_KEY_FILE');
    }
    if (env.MQTT_WS_TLS === true && !tlsFiles) problem('MQTT_WS_TLS', 'needs MQTT_TLS_CERT_FILE and MQTT_TLS_KEY_FILE');
    // A low-water mark at or above the high one would release at once, or never.
    const below = (low: 'BACKPRESSURE_BACKLOG_LOW_JOBS' | 'BACKPRESSURE_MEMORY_LOW_PERCENT', high: 'BACKPRESSURE_BACKLOG_HIGH_JOBS' | 'BACKPRESSURE_MEMORY_HIGH_PERCENT') => {
      if (typeof env[low] === 'number' && typeof env[high] === 'number' && env[low] >= env[high]) problem(low, `must be below ${high} (${env[high]})`);
    };
    below('BACKPRESSURE_BACKLOG_LOW_JOBS', 'BACKPRESSURE_BACKLOG_HIGH_JOBS');
    below('BACKPRESSURE_MEMORY_LOW_PERCENT', 'BACKPRESSURE_MEMORY_HIGH_PERCENT');
    // A packet limit under the payload limit would cut devices whose payload validation would dead-letter.
    if (typeof env.MAX_PACKET_BYTES === 'number' && typeof env.MAX_PAYLOAD_BYTES === 'number' && env.MAX_PACKET_BYTES <= env.MAX_PAYLOAD_BYTES) {
      problem('MAX_PACKET_BYTES', `must be larger than MAX_PAYLOAD_BYTES (${env.MAX_PAYLOAD_BYTES}): a packet holds the payload and its topic`);
    }
  },
  // Also when other fields failed: one start lists every problem.
  { when: () => true },
);

export type BrokerConfig = z.infer<typeof BrokerEnvSchema>;

export function loadBrokerConfig(env: Record<string, string | undefined>): BrokerConfig {
  return loadConfig(BrokerEnvSchema, env);
}
