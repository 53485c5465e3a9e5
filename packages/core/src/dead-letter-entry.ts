import { DEAD_LETTER_PAYLOAD_MAX_BYTES, type DeadLetterEntry, type ReasonCode } from '@city/schema';

const decoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

export interface RejectedInput {
  topic: string;
  clientId: string;
  receivedAt: number;
}

/**
 * The dead-letter entry of a rejected payload (or of one rejected reading of it), keeping at most
 * DEAD_LETTER_PAYLOAD_MAX_BYTES of it: as text when that is UTF-8, else exactly, as base64.
 */
export function deadLetterEntry(input: RejectedInput, reason: ReasonCode, detail: string, raw: Uint8Array | string, index?: number): DeadLetterEntry {
  const bytes = typeof raw === 'string' ? encoder.encode(raw) : raw;
  const kept = bytes.subarray(0, DEAD_LETTER_PAYLOAD_MAX_BYTES);
  let payload: string;
  let payloadEncoding: DeadLetterEntry['payloadEncoding'] = 'utf8';
  try {
    payload = decoder.decode(kept);
  } catch {
    // Not UTF-8 (or cut inside a character): keep the bytes exactly.
    payload = Buffer.from(kept).toString('base64');
    payloadEncoding = 'base64';
  }
  const entry: DeadLetterEntry = {
    reason,
    detail,
    topic: input.topic,
    clientId: input.clientId,
    receivedAt: input.receivedAt,
    payload,
    payloadEncoding,
    payloadBytes: bytes.byteLength,
    truncated: kept.byteLength < bytes.byteLength,
  };
  if (index !== undefined) entry.index = index;
  return entry;
}

/** The payload bytes a dead-letter entry kept; `undefined` when it was cut, so cannot be judged again. */
export function deadLetterPayload(entry: DeadLetterEntry): Uint8Array | undefined {
  if (entry.truncated) return undefined;
  return entry.payloadEncoding === 'utf8' ? encoder.encode(entry.payload) : new Uint8Array(Buffer.from(entry.payload, 'base64'));
}
