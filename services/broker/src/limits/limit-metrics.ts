import { Counter, Gauge, type Registry } from 'prom-client';
import { MQTT_RULES } from '@city/core';

/** Why a connection was closed before its CONNACK. */
export const REFUSAL_REASONS = [
  'max_connections',
  'connect_rate',
  'connect_timeout',
  'bytes_before_connack',
  'client_id_too_long',
  'protocol_violation',
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/** Why a connection was closed after its CONNACK. */
export const CUT_REASONS = ['packet_too_large', 'protocol_violation'] as const;
export type CutReason = (typeof CUT_REASONS)[number];

/** The metrics of services/broker/src/limits, spread into the broker's metrics (broker-metrics.ts). */
export function createLimitMetrics(registers: Registry[]) {
  const metrics = {
    openConnections: new Gauge({
      name: 'city_broker_open_connections',
      help: 'Open network connections on every listener, CONNECT received or not (limit: MAX_CONNECTIONS)',
      registers,
    }),
    connectionsRefused: new Counter({
      name: 'city_broker_connections_refused_total',
      help: 'Connections closed before their CONNACK by a limit or an MQTT rule, by reason',
      labelNames: ['reason'],
      registers,
    }),
    connectionsCut: new Counter({
      name: 'city_broker_connections_cut_total',
      help: 'Connections closed after their CONNACK by a limit or an MQTT rule, by reason',
      labelNames: ['reason'],
      registers,
    }),
    protocolViolations: new Counter({
      name: 'city_broker_protocol_violations_total',
      help: 'MQTT 3.1.1 rules broken by clients (the connection is closed), by clause',
      labelNames: ['rule'],
      registers,
    }),
    publishesThrottled: new Counter({
      name: 'city_broker_publishes_throttled_total',
      help: 'PUBLISH packets held back because their client was over its rate (delayed, never dropped)',
      registers,
    }),
    publishThrottleSeconds: new Counter({
      name: 'city_broker_publish_throttle_seconds_total',
      help: 'Time PUBLISH packets were held back by the per-client rate, summed',
      registers,
    }),
    sessionMessagesDropped: new Counter({
      name: 'city_broker_session_messages_dropped_total',
      help: 'Oldest messages dropped from a persistent session queue over MAX_QUEUED_MESSAGES_PER_SESSION',
      registers,
    }),
  };
  for (const reason of REFUSAL_REASONS) metrics.connectionsRefused.inc({ reason }, 0);
  for (const reason of CUT_REASONS) metrics.connectionsCut.inc({ reason }, 0);
  for (const rule of MQTT_RULES) metrics.protocolViolations.inc({ rule }, 0);
  return metrics;
}

export type LimitMetrics = ReturnType<typeof createLimitMetrics>;
