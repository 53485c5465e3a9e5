/**
 * Where the tests find the real services. `infra/services.sh up --profile test` starts them on these
 * loopback ports; override with the variables to point the suite elsewhere.
 */
export const testEnv = {
  redisUrl: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:16379',
  /** InfluxDB 1.x (Debian's 1.6.7): the v1 `/write` and `/query` API. */
  influxV1Url: process.env.TEST_INFLUX_V1_URL ?? 'http://127.0.0.1:18086',
  /** A server that takes `/api/v2/write` (VictoriaMetrics here; InfluxDB 2.x/3.x elsewhere). */
  influxV2Url: process.env.TEST_INFLUX_V2_URL ?? 'http://127.0.0.1:18428',
};

/** A name no other test file or run uses: for queue prefixes, databases, device ids and topics. */
export function uniqueName(label: string): string {
  return `${label}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
