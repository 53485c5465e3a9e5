export { buildBroker, type Broker, type BrokerDeps } from './build-broker.ts';
export { createBrokerMetrics, type BrokerMetrics } from './broker-metrics.ts';
export { BrokerEnvSchema, loadBrokerConfig, type BrokerConfig } from './config.ts';
export { createMicroBatcher, type MicroBatcher, type MicroBatcherOptions } from './micro-batcher.ts';
