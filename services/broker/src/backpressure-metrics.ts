import { Counter, Gauge, type Registry } from 'prom-client';

export type BackpressureMetrics = ReturnType<typeof createBackpressureMetrics>;

/** What the broker's backpressure does (backpressure.ts); spread into the broker's metrics. */
export function createBackpressureMetrics(registers: Registry[]) {
  const metrics = {
    backpressure: new Gauge({ name: 'city_broker_backpressure', help: '1 while the broker holds telemetry publishes because Redis is near full or the backlog is too long', registers }),
    backpressureTransitions: new Counter({ name: 'city_broker_backpressure_transitions_total', help: 'Backpressure engaged (by reason: memory, backlog) and released', labelNames: ['state', 'reason'], registers }),
    backpressureHeld: new Gauge({ name: 'city_broker_backpressure_held', help: 'Publishes held right now (at most one socket read per client: Aedes reads nothing more from it meanwhile)', registers }),
    backpressureHeldTotal: new Counter({ name: 'city_broker_backpressure_held_publishes_total', help: 'Publishes held by backpressure', registers }),
    backpressureSeconds: new Counter({ name: 'city_broker_backpressure_seconds_total', help: 'Time spent with backpressure engaged', registers }),
    telemetryBacklog: new Gauge({ name: 'city_broker_telemetry_backlog_jobs', help: 'Telemetry jobs waiting (waiting + delayed + prioritized), as last sampled', registers }),
    redisMemoryRatio: new Gauge({ name: 'city_broker_redis_memory_ratio', help: "Redis used_memory / maxmemory as last sampled (0 without a maxmemory)", registers }),
    backpressureSampleErrors: new Counter({ name: 'city_broker_backpressure_sample_errors_total', help: 'Samples of the backlog and Redis memory that failed (the state is kept as it was)', registers }),
  };
  // Every series exists from the start (at 0).
  metrics.backpressureTransitions.inc({ state: 'engaged', reason: 'memory' }, 0);
  metrics.backpressureTransitions.inc({ state: 'engaged', reason: 'backlog' }, 0);
  metrics.backpressureTransitions.inc({ state: 'released', reason: '' }, 0);
  return metrics;
}
