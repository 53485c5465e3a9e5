export { buildWorker, type TelemetryWorker, type WorkerDeps } from './build-worker.ts';
export { WorkerEnvSchema, loadWorkerConfig, type WorkerConfig } from './config.ts';
export { AlertRulesError, loadAlertRules, parseAlertRules } from './load-alert-rules.ts';
export { createWorkerMetrics, type WorkerMetrics } from './worker-metrics.ts';
