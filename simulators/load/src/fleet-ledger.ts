import type { ReasonCode } from '@city/schema';
import type { MessageFault } from '@city/simulator';
import { LatencyHistogram } from './latency-histogram.ts';

/** What one published copy of a message should become: travels with it until its PUBACK. */
export interface MessageMeta {
  device: number;
  readings: number;
  stored: number;
  late: number;
  rejects: readonly ReasonCode[];
  fault: MessageFault | undefined;
}

/** One second of the run, as the load generator saw it. */
export interface FleetSecond {
  /** Seconds since the schedule started. */
  second: number;
  sentMessages: number;
  sentReadings: number;
  ackedMessages: number;
  ackedReadings: number;
  /** Publish → PUBACK of the messages acknowledged in this second. */
  puback: LatencyHistogram;
  /** How far behind its schedule the latest message went out, ms (the generator or a full window). */
  maxLagMs: number;
  connected: number;
  /** Connections that closed in this second (dropped, refused, cut). */
  closes: number;
  /** The target rate in this second (readings/s), when there is one. */
  targetPerS: number | undefined;
}

export const newSecond = (second: number, targetPerS: number | undefined): FleetSecond => ({
  second,
  sentMessages: 0,
  sentReadings: 0,
  ackedMessages: 0,
  ackedReadings: 0,
  puback: new LatencyHistogram(),
  maxLagMs: 0,
  connected: 0,
  closes: 0,
  targetPerS,
});

/** Counts by a key, created on first use. */
export type Tally<K extends string> = Partial<Record<K, number>>;

export function bump<K extends string>(tally: Tally<K>, key: K, n = 1): void {
  tally[key] = (tally[key] ?? 0) + n;
}

/**
 * Everything the load generator did and was told, to check the pipeline's outcome against. "Acknowledged" counts are
 * exact (a PUBACK came back); what was in flight when the run stopped is kept apart: the broker may or may not have
 * taken it, so it bounds the outcome from above without being owed.
 */
export interface FleetLedger {
  devices: number;
  /** Messages planned and published (a duplicate's second copy is one more publish). */
  messages: { planned: number; published: number; acked: number; retransmitted: number; unackedAtEnd: number };
  readings: {
    /** In published payloads (valid or not), a duplicate's copy included. */
    sent: number;
    acked: number;
    /** Not taken because the device's power was out (an outage episode). */
    dark: number;
    /** Not taken because the device was silent (a silent-device fault). */
    silenced: number;
  };
  /** Points the acknowledged messages should have added, in all. */
  ackedPoints: number;
  /** Points the acknowledged messages should have added, per device (index in the fleet). */
  ackedStoredByDevice: Float64Array;
  /** Points the messages in flight at the end might have added, per device. */
  unackedStoredByDevice: Float64Array;
  /** Of the acknowledged points, those the broker should have marked late. */
  ackedLate: number;
  unackedLate: number;
  /** Dead letters owed by acknowledged messages, by reason. */
  ackedRejects: Tally<ReasonCode>;
  /** Dead letters that may exist in addition: in flight at the end, or written twice for a retransmitted message. */
  extraRejectsPossible: Tally<ReasonCode>;
  /** Faults injected (messages carrying them), and how many of those were acknowledged. */
  faults: { injected: Tally<MessageFault>; acked: Tally<MessageFault> };
  connections: {
    /** CONNACKs by return code (0 accepted). */
    connacks: Tally<string>;
    /** CONNECTs sent with a wrong token on purpose. */
    wrongCredentialAttempts: number;
    /** Connections dropped on purpose by reconnect storms. */
    stormDrops: number;
    storms: number;
    /** Closed while connected, not by us. */
    unexpectedCloses: number;
    lastError?: string;
  };
  /**
   * Devices a clock-skewed reading of which was stored (accepted by the broker's window). In replay time one hours
   * "ahead" is still in the wall clock's past, and it moves the device's alert watermark hours ahead: its later
   * readings are stale to the alert engine until simulated time catches up.
   */
  skewStoredDevices: Set<number>;
  /** Devices that went silent on purpose, and when (ms since the schedule started). */
  silent: { devices: number; fromMs: number; untilMs: number | undefined };
  puback: LatencyHistogram;
  lag: LatencyHistogram;
}

export function emptyLedger(devices: number): FleetLedger {
  return {
    devices,
    messages: { planned: 0, published: 0, acked: 0, retransmitted: 0, unackedAtEnd: 0 },
    readings: { sent: 0, acked: 0, dark: 0, silenced: 0 },
    ackedPoints: 0,
    ackedStoredByDevice: new Float64Array(devices),
    unackedStoredByDevice: new Float64Array(devices),
    ackedLate: 0,
    unackedLate: 0,
    ackedRejects: {},
    extraRejectsPossible: {},
    faults: { injected: {}, acked: {} },
    skewStoredDevices: new Set(),
    connections: { connacks: {}, wrongCredentialAttempts: 0, stormDrops: 0, storms: 0, unexpectedCloses: 0 },
    silent: { devices: 0, fromMs: 0, untilMs: undefined },
    puback: new LatencyHistogram(),
    lag: new LatencyHistogram(),
  };
}
