import { z } from 'zod';
import { envInt, envLogLevel, envUrl, loadConfig } from '@city/config';

/** Every setting of the broker, from the environment. Defaults suit one machine on loopback. */
export const BrokerEnvSchema = z.object({
  MQTT_HOST: z.string().default('127.0.0.1'),
  MQTT_PORT: envInt(1883, { min: 0, max: 65535 }),
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
  DEAD_LETTER_MAX_ENTRIES: envInt(100_000, { min: 100, max: 100_000_000 }),
  OPS_HOST: z.string().default('127.0.0.1'),
  OPS_PORT: envInt(9101, { min: 0, max: 65535 }),
  LOG_LEVEL: envLogLevel,
});

export type BrokerConfig = z.infer<typeof BrokerEnvSchema>;

export function loadBrokerConfig(env: Record<string, string | undefined>): BrokerConfig {
  return loadConfig(BrokerEnvSchema, env);
}
