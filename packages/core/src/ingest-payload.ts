import type { z } from 'zod';
import { DEVICE_READING_SCHEMAS, metricsOf, parseTopic, type DeadLetterEntry, type Family, type Reading, type ReasonCode } from '@city/schema';
import { deadLetterEntry } from './dead-letter-entry.ts';
import { DEFAULT_EVENT_TIME_WINDOW, judgeEventTime, type EventTimeWindow } from './judge-event-time.ts';
import { looksLikeSenml, resolveSenml, resolvedRecordJson, type SenmlRecord } from './resolve-senml.ts';
import { senmlToCandidates } from './senml-to-candidates.ts';

export interface IngestLimits extends Partial<EventTimeWindow> {
  /**
   * Largest payload accepted, in bytes.
   * @defaultValue 262144 (256 KiB)
   */
  maxPayloadBytes: number;
  /**
   * Most readings in one batch array, or records in one SenML pack.
   * @defaultValue 1000
   */
  maxReadingsPerMessage: number;
}

export const DEFAULT_INGEST_LIMITS: Required<IngestLimits> = { maxPayloadBytes: 262_144, maxReadingsPerMessage: 1000, ...DEFAULT_EVENT_TIME_WINDOW };

export interface IngestInput {
  topic: string;
  payload: Uint8Array;
  clientId: string;
  /** When the broker received the payload, epoch ms: the event time of readings without one, and "now" for the windows. */
  receivedAt: number;
}

export type IngestOutcome =
  /** Not a device telemetry topic the broker ingests (operators' alert topics): let MQTT route it. */
  | { kind: 'passthrough' }
  /**
   * Valid readings to enqueue, and rejects to dead-letter; either may be empty. `usesReceiveTime`: some reading
   * took its event time from `receivedAt` (no `ts`, or a relative SenML time), so a resend would get another one.
   */
  | { kind: 'ingest'; readings: Reading[]; rejects: DeadLetterEntry[]; usesReceiveTime: boolean };

const decoder = new TextDecoder('utf-8', { fatal: true });

/** One reading to judge: the object the family schema parses, and what to keep of it if it is rejected. */
interface Candidate {
  reading: unknown;
  index: number | undefined;
  /**
   * What a dead letter keeps, made only for a reject: the SenML records of this reading, the reading alone (in a
   * batch array), or else the whole payload. Plain data, not a closure: this runs for every message.
   */
  senmlRecords?: readonly SenmlRecord[];
  batchItem?: unknown;
  /** Set when the reading is already known to be bad (a SenML record that is not a metric). */
  error?: { reason: ReasonCode; detail: string; index: number };
  /** One of several readings of a batch array: it needs its own `ts`. */
  needsTs?: boolean;
  /** Its time is relative to the receive time (SenML). */
  relativeTime?: boolean;
}

/**
 * Decide what becomes of one PUBLISH: which readings are valid, and why the others are not. Three payload shapes
 * (docs/contract.md): one reading `{…}`, a batch array `[{…}, …]`, and a SenML pack (RFC 8428), told apart by
 * content: a JSON array whose first record has a SenML label (`bn`, `n`, `v`…) is SenML.
 *
 * Each reading is judged on its own: one bad reading of a batch is dead-lettered with its index and the valid ones
 * beside it are stored, so a device never loses good data to a neighbour's typo. A reading passes the family's
 * schema (types, ranges, consistency between its metrics), then the event-time window: too far ahead or too old is
 * rejected; old but inside the window is stored with `late: true`.
 */
export function ingestPayload(input: IngestInput, limits: IngestLimits = DEFAULT_INGEST_LIMITS): IngestOutcome {
  const topic = parseTopic(input.topic);
  if (topic.kind === 'alert') return { kind: 'passthrough' };
  const options = { ...DEFAULT_INGEST_LIMITS, ...limits };

  if (topic.kind === 'invalid') return reject(input, topic.reason, topic.detail);
  if (input.payload.byteLength > options.maxPayloadBytes) {
    return reject(input, 'payload_too_large', `payload is ${input.payload.byteLength} bytes; the limit is ${options.maxPayloadBytes}`);
  }

  let body: unknown;
  try {
    body = JSON.parse(decoder.decode(input.payload));
  } catch (err) {
    return reject(input, 'invalid_json', `payload is not UTF-8 JSON: ${(err as Error).message}`);
  }

  const items = Array.isArray(body) ? body : [body];
  if (items.length === 0) return reject(input, 'empty_batch', 'batch array holds no readings');
  if (items.length > options.maxReadingsPerMessage) {
    return reject(input, 'batch_too_large', `batch holds ${items.length} readings; the limit is ${options.maxReadingsPerMessage}`);
  }

  let candidates: Candidate[];
  if (looksLikeSenml(body)) {
    const resolved = resolveSenml(items, input.receivedAt);
    if (!resolved.ok) return reject(input, 'invalid_senml', resolved.detail, resolved.index);
    if (resolved.records.length === 0) return reject(input, 'empty_batch', 'SenML pack holds base fields but no record');
    candidates = senmlToCandidates(resolved.records, topic.family).map((c) => ({
      reading: c.reading,
      index: c.index,
      senmlRecords: c.resolved,
      relativeTime: c.relativeTime,
      ...(c.error ? { error: c.error } : {}),
    }));
  } else {
    const batch = Array.isArray(body);
    candidates = [];
    for (let i = 0; i < items.length; i++) {
      candidates.push(batch ? { reading: items[i], index: i, batchItem: items[i], needsTs: items.length > 1 } : { reading: items[i], index: undefined });
    }
  }

  const schema = DEVICE_READING_SCHEMAS[topic.family];
  const window: EventTimeWindow = { maxFutureMs: options.maxFutureMs, maxAgeMs: options.maxAgeMs, lateAfterMs: options.lateAfterMs };
  const readings: Reading[] = [];
  const rejects: DeadLetterEntry[] = [];
  let usesReceiveTime = false;
  for (const candidate of candidates) {
    if (candidate.error !== undefined) {
      rejects.push(candidateDeadLetter(input, candidate, candidate.error.reason, candidate.error.detail, candidate.error.index));
      continue;
    }
    const parsed = schema.safeParse(candidate.reading);
    if (!parsed.success) {
      const { reason, detail } = explain(parsed.error);
      rejects.push(candidateDeadLetter(input, candidate, reason, detail));
      continue;
    }
    const data = parsed.data as Record<string, unknown>;
    // Readings of one message share a receive time; stored under it they would overwrite each other.
    if (candidate.needsTs === true && data.ts === undefined) {
      rejects.push(candidateDeadLetter(input, candidate, 'invalid_timestamp', 'ts: every reading of a batch array needs its own ts'));
      continue;
    }
    const reading = toReading(topic.family, topic.deviceId, data, input.receivedAt);
    const verdict = judgeEventTime(reading.ts, input.receivedAt, window);
    if (!verdict.ok) {
      rejects.push(candidateDeadLetter(input, candidate, verdict.reason, verdict.detail));
      continue;
    }
    if (verdict.late) reading.late = true;
    if (data.ts === undefined || candidate.relativeTime === true) usesReceiveTime = true;
    readings.push(reading);
  }
  return { kind: 'ingest', readings, rejects, usesReceiveTime };
}

function reject(input: IngestInput, reason: ReasonCode, detail: string, index?: number): IngestOutcome {
  return { kind: 'ingest', readings: [], rejects: [deadLetterEntry(input, reason, detail, input.payload, index)], usesReceiveTime: false };
}

function candidateDeadLetter(input: IngestInput, candidate: Candidate, reason: ReasonCode, detail: string, index = candidate.index): DeadLetterEntry {
  const raw =
    candidate.senmlRecords !== undefined
      ? JSON.stringify(candidate.senmlRecords.map(resolvedRecordJson))
      : candidate.batchItem !== undefined
        ? JSON.stringify(candidate.batchItem)
        : input.payload;
  return deadLetterEntry(input, reason, detail, raw, index);
}

function toReading(family: Family, deviceId: string, data: Record<string, unknown>, receivedAt: number): Reading {
  const metrics: Record<string, number | boolean> = {};
  for (const name of Object.keys(metricsOf(family))) {
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
    case 'custom': {
      const reason = issue.params?.reason as ReasonCode | undefined;
      return reason === 'no_metrics' || reason === 'inconsistent_metrics' ? reason : 'invalid_type';
    }
    default:
      return 'invalid_type';
  }
}
