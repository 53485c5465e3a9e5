export { buildBroker, type Broker, type BrokerDeps } from './build-broker.ts';
export { createBrokerMetrics, type BrokerMetrics } from './broker-metrics.ts';
export { BrokerEnvSchema, loadBrokerConfig, type BrokerConfig } from './config.ts';
export { createIngestion, type IngestResult, type Ingestion, type IngestionDeps } from './create-ingestion.ts';
export { createMicroBatcher, type MicroBatcher, type MicroBatcherOptions } from './micro-batcher.ts';
