export { buildBroker, type Broker, type BrokerDeps } from './build-broker.ts';
export { createBrokerMetrics, type BrokerMetrics } from './broker-metrics.ts';
export { BrokerEnvSchema, loadBrokerConfig, type BrokerConfig } from './config.ts';
export { createIngestion, type IngestResult, type Ingestion, type IngestionDeps } from './create-ingestion.ts';
export { createMicroBatcher, type MicroBatcher, type MicroBatcherOptions } from '@city/batching';
export { AUTH_FAILURE_REASONS, REVOCATION_REASONS, type AuthFailureReason, type RevocationReason } from './access-metrics.ts';
export { createBrokerAccess, type BrokerAccessOptions } from './broker-access.ts';
export { listenerOptionsFromConfig, startListeners, type ClientCertMode, type ListenerOptions, type Listeners, type TlsSettings } from './listeners.ts';
export { DEFAULT_CLIENT_LIMITS, type ClientLimits } from './limits/client-limits.ts';
