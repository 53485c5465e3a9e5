import type { z } from 'zod';
import {
  DEAD_LETTER_PAYLOAD_MAX_BYTES,
  DEVICE_READING_SCHEMAS,
  FAMILY_SPECS,
  parseTopic,
  type DeadLetterEntry,
  type Family,
  type Reading,
  type ReasonCode,
} from '@city/schema';

export interface IngestLimits {
  /**
   * Largest payload accepted, in bytes.
   * @defaultValue 262144 (256 KiB)
   */
  maxPayloadBytes: number;
  /**
   * Most readings in one batch array.
   * @defaultValue 1000
   */
  maxReadingsPerMessage: number;
}

export const DEFAULT_INGEST_LIMITS: IngestLimits = { maxPayloadBytes: 262_144, maxReadingsPerMessage: 1000 };

export interface IngestInput {
  topic: string;
  payload: Uint8Array;
  clientId: string;
  receivedAt: number;
}

export type IngestOutcome =
  /** Not a device telemetry topic the broker ingests (operators' alert topics): let MQTT route it. */
  | { kind: 'passthrough' }
  /** Valid readings to enqueue, and rejects to dead-letter; either may be empty. */
  | { kind: 'ingest'; readings: Reading[]; rejects: DeadLetterEntry[] };

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Decide what becomes of one PUBLISH: which readings are valid, and why the others are not.
 *
 * A batch array is judged reading by reading: one bad reading is dead-lettered on its own and the valid ones
 * beside it are stored, so a device never loses good data to a neighbour's typo.
 */
export function ingestPayload(input: IngestInput, limits: IngestLimits = DEFAULT_INGEST_LIMITS): IngestOutcome {
  const topic = parseTopic(input.topic);
  if (topic.kind === 'alert') return { kind: 'passthrough' };

  const reject = (reason: ReasonCode, detail: string, raw: Uint8Array | string, index?: number): IngestOutcome => ({
    kind: 'ingest',
    readings: [],
    rejects: [deadLetter(input, reason, detail, raw, index)],
  });

  if (topic.kind === 'invalid') return reject(topic.reason, topic.detail, input.payload);
  if (input.payload.byteLength > limits.maxPayloadBytes) {
    return reject('payload_too_large', `payload is ${input.payload.byteLength} bytes; the limit is ${limits.maxPayloadBytes}`, input.payload);
  }

  let body: unknown;
  try {
    body = JSON.parse(decoder.decode(input.payload));
  } catch (err) {
    return reject('invalid_json', `payload is not UTF-8 JSON: ${(err as Error).message}`, input.payload);
  }

  const items = Array.isArray(body) ? body : [body];
  if (items.length === 0) return reject('empty_batch', 'batch array holds no readings', input.payload);
  if (items.length > limits.maxReadingsPerMessage) {
    return reject('batch_too_large', `batch holds ${items.length} readings; the limit is ${limits.maxReadingsPerMessage}`, input.payload);
  }

  const schema = DEVICE_READING_SCHEMAS[topic.family];
  const readings: Reading[] = [];
  const rejects: DeadLetterEntry[] = [];
  items.forEach((item, i) => {
    const index = Array.isArray(body) ? i : undefined;
    const parsed = schema.safeParse(item);
    if (!parsed.success) {
      const { reason, detail } = explain(parsed.error);
      rejects.push(deadLetter(input, reason, detail, Array.isArray(body) ? JSON.stringify(item) : input.payload, index));
      return;
    }
    const data = parsed.data as Record<string, unknown>;
    // Readings of one message share a receive time; stored under it they would overwrite each other.
    if (items.length > 1 && data.ts === undefined) {
      rejects.push(deadLetter(input, 'invalid_timestamp', 'ts: every reading of a batch array needs its own ts', JSON.stringify(item), index));
      return;
    }
    readings.push(toReading(topic.family, topic.deviceId, data, input.receivedAt));
  });
  return { kind: 'ingest', readings, rejects };
}

function toReading(family: Family, deviceId: string, data: Record<string, unknown>, receivedAt: number): Reading {
  const metrics: Record<string, number | boolean> = {};
  for (const name of Object.keys(FAMILY_SPECS[family].metrics)) {
    const value = data[name];
    if (typeof value === 'number' || typeof value === 'boolean') metrics[name] = value;
  }
  const reading: Reading = { family, deviceId, ts: (data.ts as number | undefined) ?? receivedAt, receivedAt, metrics };
  if (typeof data.district === 'string') reading.district = data.district;
  return reading;
}

/** The first problem decides the reason code; the detail names every problem, field by field. */
function explain(error: z.ZodError): { reason: ReasonCode; detail: string } {
  const issues = error.issues;
  const detail = issues
    .map((issue) => {
      if (issue.code === 'unrecognized_keys') return `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      const path = issue.path.join('.');
      return path && !issue.message.startsWith(path) ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
  return { reason: reasonOf(issues[0]), detail };
}

function reasonOf(issue: z.core.$ZodIssue | undefined): ReasonCode {
  if (issue === undefined) return 'invalid_type';
  if (issue.path[0] === 'ts') return 'invalid_timestamp';
  switch (issue.code) {
    case 'unrecognized_keys':
      return 'unknown_field';
    case 'too_big':
    case 'too_small':
      return 'out_of_range';
    case 'custom':
      return issue.params?.reason === 'no_metrics' ? 'no_metrics' : 'invalid_type';
    default:
      return 'invalid_type';
  }
}

function deadLetter(input: IngestInput, reason: ReasonCode, detail: string, raw: Uint8Array | string, index: number | undefined): DeadLetterEntry {
  const bytes = typeof raw === 'string' ? new TextEncoder().encode(raw) : raw;
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
