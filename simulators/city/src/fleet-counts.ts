import { INVALID_REASONS, type InvalidReason } from './generate-invalid.ts';

/** What a fleet run has done so far. */
export interface FleetCounts {
  /** Messages handed to the MQTT clients. */
  sent: number;
  /** Valid readings inside the sent messages (a batch counts each). */
  readings: number;
  /** QoS 1 messages the broker acknowledged with a PUBACK. */
  acked: number;
  /** Publishes the client reported as failed. */
  errors: number;
  /** Sent but not yet acknowledged (QoS 1) or written (QoS 0); after `stop()`, the ones given up on. */
  inFlight: number;
  /** Invalid messages sent, by the reason code the broker should give. */
  invalid: Record<InvalidReason, number>;
  /** Messages carrying an over-threshold reading. */
  overThreshold: number;
  /** Connection-level errors the clients reported (refused, timed out, reset). */
  connectionErrors: number;
  /** Reconnect attempts. */
  reconnects: number;
  /** Ticks skipped because the process fell a whole interval behind: the simulator, not the broker, is the limit. */
  skippedTicks: number;
}

export function emptyFleetCounts(): FleetCounts {
  return {
    sent: 0,
    readings: 0,
    acked: 0,
    errors: 0,
    inFlight: 0,
    invalid: Object.fromEntries(INVALID_REASONS.map((r) => [r, 0])) as Record<InvalidReason, number>,
    overThreshold: 0,
    connectionErrors: 0,
    reconnects: 0,
    skippedTicks: 0,
  };
}
