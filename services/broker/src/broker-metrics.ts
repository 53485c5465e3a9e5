import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { REASON_CODES, FAMILIES } from '@city/schema';
import { createLimitMetrics } from './limits/limit-metrics.ts';
import { createAccessMetrics } from './access-metrics.ts';
import { createBackpressureMetrics } from './backpressure-metrics.ts';

export type BrokerMetrics = ReturnType<typeof createBrokerMetrics>;

export function createBrokerMetrics(registry = new Registry()) {
  const registers = [registry];
  const metrics = {
    registry,
    messagesReceived: new Counter({ name: 'city_broker_messages_received_total', help: 'PUBLISH packets on device telemetry topics', registers }),
    readingsAccepted: new Counter({ name: 'city_broker_readings_accepted_total', help: 'Valid readings accepted', labelNames: ['family'], registers }),
    readingsRejected: new Counter({ name: 'city_broker_readings_rejected_total', help: 'Payloads or readings rejected, by reason', labelNames: ['reason'], registers }),
    batchesEnqueued: new Counter({ name: 'city_broker_batches_enqueued_total', help: 'Micro-batches written to the telemetry queue', registers }),
    readingsEnqueued: new Counter({ name: 'city_broker_readings_enqueued_total', help: 'Readings safely in Redis (acknowledged to QoS 1 publishers)', registers }),
    enqueueFailures: new Counter({ name: 'city_broker_enqueue_failures_total', help: 'Micro-batches that could not be written to Redis', labelNames: ['target'], registers }),
    enqueueSeconds: new Histogram({
      name: 'city_broker_enqueue_duration_seconds',
      help: 'Time to write one micro-batch to Redis',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    connectedClients: new Gauge({ name: 'city_broker_connected_clients', help: 'Connected MQTT clients', registers }),
    /** Connection, packet, rate and session limits (limits/limit-metrics.ts). */
    ...createLimitMetrics(registers),
    /** Authentication, ACL denials and revoked connections (access-metrics.ts). */
    ...createAccessMetrics(registers),
    /** Backpressure state, transitions, held publishes, the backlog and Redis memory it watches (backpressure.ts). */
    ...createBackpressureMetrics(registers),
  };
  // Every label value exists from the start, so dashboards see a 0 rather than no series (`.labels(x)` alone
  // creates no series in prom-client 15: it takes an `inc(…, 0)`).
  for (const family of FAMILIES) metrics.readingsAccepted.inc({ family }, 0);
  for (const reason of REASON_CODES) metrics.readingsRejected.inc({ reason }, 0);
  return metrics;
}
