import { parseTopic, type DeadLetterEntry, type ReasonCode } from '@city/schema';

/** Which dead letters an operator asks about. Every field narrows; none given selects all. */
export interface DeadLetterFilter {
  reasons?: readonly ReasonCode[];
  /** The device id of the topic (or, for a topic that names none, the client id). */
  device?: string;
  /** Received at or after, epoch ms. */
  sinceMs?: number;
}

/** The device a dead letter is about: the topic's device id, or the client id when the topic names none. */
export function deadLetterDevice(entry: Pick<DeadLetterEntry, 'topic' | 'clientId'>): string {
  const topic = parseTopic(entry.topic);
  return topic.kind === 'telemetry' ? topic.deviceId : entry.clientId;
}

export function matchesDeadLetter(entry: DeadLetterEntry, filter: DeadLetterFilter): boolean {
  if (filter.reasons !== undefined && filter.reasons.length > 0 && !filter.reasons.includes(entry.reason)) return false;
  if (filter.device !== undefined && deadLetterDevice(entry) !== filter.device) return false;
  if (filter.sinceMs !== undefined && entry.receivedAt < filter.sinceMs) return false;
  return true;
}

export interface DeadLetterSummary {
  total: number;
  /** Count per reason, most frequent first. */
  byReason: Array<{ reason: ReasonCode; count: number }>;
  /** Count per device, most frequent first, with its reasons. */
  byDevice: Array<{ device: string; count: number; reasons: Partial<Record<ReasonCode, number>> }>;
}

/** Counts by reason and by device: which devices are failing, and how. */
export function summarizeDeadLetters(entries: readonly DeadLetterEntry[]): DeadLetterSummary {
  const byReason = new Map<ReasonCode, number>();
  const byDevice = new Map<string, { count: number; reasons: Partial<Record<ReasonCode, number>> }>();
  for (const entry of entries) {
    byReason.set(entry.reason, (byReason.get(entry.reason) ?? 0) + 1);
    const device = deadLetterDevice(entry);
    const row = byDevice.get(device) ?? { count: 0, reasons: {} };
    row.count++;
    row.reasons[entry.reason] = (row.reasons[entry.reason] ?? 0) + 1;
    byDevice.set(device, row);
  }
  const byCount = <T extends { count: number }>(a: T & { key: string }, b: T & { key: string }) => b.count - a.count || a.key.localeCompare(b.key);
  return {
    total: entries.length,
    byReason: [...byReason].map(([reason, count]) => ({ key: reason, reason, count })).sort(byCount).map(({ reason, count }) => ({ reason, count })),
    byDevice: [...byDevice]
      .map(([device, row]) => ({ key: device, device, ...row }))
      .sort(byCount)
      .map(({ device, count, reasons }) => ({ device, count, reasons })),
  };
}
