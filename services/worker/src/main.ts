import os from 'node:os';
import mqtt from 'mqtt';
import { ConfigError } from '@city/config';
import type { AlertRule } from '@city/schema';
import { createSink, type SinkConfig } from '@city/influx';
import { createLogger } from '@city/logger';
import { buildOpsServer, stopOnSignals } from '@city/ops';
import { createRedis } from '@city/queue';
import { loadWorkerConfig, type WorkerConfig } from './config.ts';
import { buildWorker } from './build-worker.ts';
import { AlertRulesError, loadAlertRulesFile } from './load-alert-rules.ts';
import { createAlertRulesSource, listenForReloads } from './alerts/rules-source.ts';
import { createRegistryDirectory } from './alerts/registry-directory.ts';
import { createDeviceRegistry } from '@city/registry';
import { createWorkerMetrics } from './worker-metrics.ts';

function sinkConfig(config: WorkerConfig): SinkConfig {
  const common = { url: config.INFLUX_URL, timeoutMs: config.INFLUX_TIMEOUT_MS };
  return config.INFLUX_API === 'v1'
    ? {
        api: 'v1',
        ...common,
        database: config.INFLUX_DB!,
        ...(config.INFLUX_RETENTION_POLICY ? { retentionPolicy: config.INFLUX_RETENTION_POLICY } : {}),
        ...(config.INFLUX_USERNAME ? { username: config.INFLUX_USERNAME, password: config.INFLUX_PASSWORD ?? '' } : {}),
      }
    : { api: 'v2', ...common, org: config.INFLUX_ORG!, bucket: config.INFLUX_BUCKET!, ...(config.INFLUX_TOKEN ? { token: config.INFLUX_TOKEN } : {}) };
}

async function main(config: WorkerConfig): Promise<void> {
  const logger = createLogger({ name: 'worker', level: config.LOG_LEVEL });
  const rulesFile = config.WORKER_ROLES.includes('storage') ? await loadAlertRulesFile(config.ALERT_RULES_FILE) : { version: 2 as const, rules: [], maintenance: [] };
  const redis = createRedis(config.REDIS_URL, 'worker');
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  const sink = config.WORKER_ROLES.includes('storage') ? createSink(sinkConfig(config)) : undefined;
  // The alerts role publishes alerts on it; the storage role publishes pipeline status on it, so a storage-only
  // process connects too when it has a service account to log in with.
  const alertMqtt = config.WORKER_ROLES.includes('alerts') || config.ALERT_MQTT_USERNAME !== undefined
    ? mqtt.connect(config.ALERT_MQTT_URL, {
        // The broker wants an operator account's client id to start with its username (`operator:<name>:…`), and
        // caps client ids at 64 characters: the host name is shortened.
        clientId: `${config.ALERT_MQTT_USERNAME ?? 'city-alerts'}:${os.hostname().slice(0, 20)}-${process.pid}`,
        reconnectPeriod: 1000,
        ...(config.ALERT_MQTT_USERNAME ? { username: config.ALERT_MQTT_USERNAME, password: config.ALERT_MQTT_PASSWORD ?? '' } : {}),
      })
    : undefined;
  alertMqtt?.on('error', (err) => logger.warn({ err: err.message }, 'alert MQTT connection error'));

  const metrics = createWorkerMetrics();
  let onRulesChange: (previous: readonly AlertRule[], current: readonly AlertRule[]) => void = () => {};
  const rules = createAlertRulesSource({ path: config.ALERT_RULES_FILE, initial: rulesFile, logger, alertMetrics: metrics.alerts, onChange: (p, c) => onRulesChange(p, c) });
  const worker = buildWorker({
    connection: redis,
    prefix: config.QUEUE_PREFIX,
    logger,
    metrics,
    roles: config.WORKER_ROLES,
    ...(sink ? { sink, rules: rules.rules } : {}),
    alerts: {
      webhooks: config.ALERT_WEBHOOKS,
      maintenance: rules.maintenance,
      // District, location and expected reporting interval per device, from the registry.
      devices: createRegistryDirectory({ registry: createDeviceRegistry({ redis, prefix: config.QUEUE_PREFIX }) }),
      sweepIntervalMs: config.ALERT_SWEEP_INTERVAL_MS,
      step: { allowedLatenessMs: config.ALERT_ALLOWED_LATENESS_MS },
    },
    ...(alertMqtt ? { mqtt: alertMqtt } : {}),
    storageConcurrency: config.STORAGE_CONCURRENCY,
    storage: {
      writeMaxLines: config.STORAGE_WRITE_MAX_LINES,
      writeMaxDelayMs: config.STORAGE_WRITE_MAX_DELAY_MS,
      maxConcurrentWrites: config.STORAGE_MAX_CONCURRENT_WRITES,
      pause: { baseMs: config.STORAGE_RETRY_BASE_MS, maxMs: config.STORAGE_RETRY_MAX_MS },
      lockDurationMs: config.STORAGE_LOCK_DURATION_MS,
      degradedAfterMs: config.PIPELINE_DEGRADED_AFTER_MS,
    },
  });
  const ops = buildOpsServer({
    registry: metrics.registry,
    checks: {
      redis: async () => (await redis.ping()) === 'PONG',
      ...(sink ? { influxdb: () => sink.ping() } : {}),
      ...(alertMqtt && config.WORKER_ROLES.includes('alerts') ? { mqtt: () => Promise.resolve(alertMqtt.connected) } : {}),
    },
  });
  const evaluator = worker.alertEngine.evaluator;
  onRulesChange = (previous, current) => {
    void evaluator?.resolveRemoved(previous, current).catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'could not resolve the alerts of removed rules'));
  };
  // Reload without a restart: on a change of the file, and on `pnpm city alerts reload` (Redis pub/sub).
  const reloadSubscriber = evaluator ? redis.duplicate() : undefined;
  reloadSubscriber?.on('error', (err) => logger.warn({ err: err.message }, 'redis (rule reloads) connection error'));
  const stopListening = reloadSubscriber
    ? await listenForReloads({ subscriber: reloadSubscriber, redis, prefix: config.QUEUE_PREFIX, workerId: `${os.hostname()}:${process.pid}`, source: rules })
    : undefined;
  if (evaluator) rules.watch();
  await ops.listen({ host: config.OPS_HOST, port: config.OPS_PORT });
  logger.info({ roles: config.WORKER_ROLES, influx: `${config.INFLUX_API} ${config.INFLUX_URL}`, rules: rules.rules().length, ops: `http://${config.OPS_HOST}:${config.OPS_PORT}` }, 'worker running');

  stopOnSignals(logger, async () => {
    rules.close();
    await stopListening?.().catch(() => {});
    reloadSubscriber?.disconnect();
    await worker.close();
    await Promise.all([ops.close(), sink?.close(), alertMqtt?.endAsync()]);
    await redis.quit().catch(() => redis.disconnect());
  }, 'finishing the batches in hand');
}

try {
  await main(loadWorkerConfig(process.env));
} catch (err) {
  // Expected start-up problems read as a message; anything else is a bug and keeps its stack.
  const expected = err instanceof ConfigError || err instanceof AlertRulesError;
  process.stderr.write(`worker: ${expected ? err.message : String((err as Error).stack ?? err)}\n`);
  process.exit(1);
}
