import type { Aedes, PublishPacket } from 'aedes';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '@city/logger';
import { deviceErrorsTopic, parseTopic, type DeadLetterEntry, type ReasonCode } from '@city/schema';

/** What a device reads on `city/v1/{family}/{deviceId}/errors` for each rejected payload or reading. */
export interface DeviceFeedbackMessage {
  reason: ReasonCode;
  detail: string;
  /** Position of the reading in a batch array (or of the record in a SenML pack). */
  index?: number;
  /** The topic the rejected payload was published to. */
  topic: string;
  /** When the broker received it, ISO 8601. */
  at: string;
}

export interface DeviceFeedbackOptions {
  /**
   * Feedback messages per rejected PUBLISH; a 1000-reading batch of garbage gets this many, the last saying how
   * many more were rejected. Every reject is still dead-lettered and counted.
   * @defaultValue 10
   */
  maxPerPublish?: number;
  /**
   * QoS of the feedback: 1, so a device that subscribed with QoS 1 (and a persistent session) gets it after a
   * reconnect too.
   * @defaultValue 1
   */
  qos?: 0 | 1;
  /** Longest detail sent, in characters: the dead letter keeps the whole of it. @defaultValue 512 */
  maxDetailChars?: number;
}

/**
 * The feedback for the rejects of one PUBLISH: `[topic, message]` pairs, at most `maxPerPublish`. Pure. A reject
 * whose topic names no valid device of a known family has no error topic to go to (and a device's ACL would not
 * have let it publish there): it gets none.
 */
export function feedbackMessages(
  rejects: readonly DeadLetterEntry[],
  { maxPerPublish = 10, maxDetailChars = 512 }: DeviceFeedbackOptions = {},
): Array<[string, DeviceFeedbackMessage]> {
  const out: Array<[string, DeviceFeedbackMessage]> = [];
  for (const [i, reject] of rejects.entries()) {
    const topic = parseTopic(reject.topic);
    if (topic.kind !== 'telemetry') continue;
    const more = rejects.length - i - 1;
    const last = out.length === maxPerPublish - 1 && more > 0;
    let detail = reject.detail.length > maxDetailChars ? `${reject.detail.slice(0, maxDetailChars - 1)}…` : reject.detail;
    if (last) detail += ` (and ${more} more rejected in this message; see the dead letters)`;
    const message: DeviceFeedbackMessage = { reason: reject.reason, detail, topic: reject.topic, at: new Date(reject.receivedAt).toISOString() };
    if (reject.index !== undefined) message.index = reject.index;
    out.push([deviceErrorsTopic(topic.family, topic.deviceId), message]);
    if (last) break;
  }
  return out;
}

export interface DeviceFeedback {
  /** Publish the rejects of one PUBLISH to the device's error topic. Never throws; failures are logged. */
  report(rejects: readonly DeadLetterEntry[]): void;
}

/**
 * Tells devices why their payloads were rejected, on their own error topic, through the broker itself
 * (`aedes.publish`: no client, no credentials). Called after the PUBACK, so feedback never delays an acknowledgement.
 */
export function createDeviceFeedback(deps: { aedes: Aedes; logger: Logger; registry?: Registry; options?: DeviceFeedbackOptions }): DeviceFeedback {
  const { aedes, logger, options = {} } = deps;
  const published = new Counter({
    name: 'city_broker_device_feedback_total',
    help: 'Reject reasons published to devices on their error topic',
    registers: deps.registry ? [deps.registry] : [],
  });
  const qos = options.qos ?? 1;
  return {
    report(rejects) {
      if (rejects.length === 0) return;
      for (const [topic, message] of feedbackMessages(rejects, options)) {
        const packet: PublishPacket = { cmd: 'publish', topic, payload: Buffer.from(JSON.stringify(message)), qos, retain: false, dup: false };
        aedes.publish(packet, (err) => {
          if (err) logger.warn({ topic, err: err.message }, 'device feedback not published');
          else published.inc();
        });
      }
    },
  };
}
