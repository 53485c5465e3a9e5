import { EVENT_TIME_DEFAULTS } from '@city/schema';

export interface EventTimeWindow {
  /**
   * An event time later than the receive time by more than this is rejected (`timestamp_in_future`): a device
   * clock far ahead would otherwise write points no later reading can correct.
   * @defaultValue 300000 (5 min)
   */
  maxFutureMs: number;
  /**
   * An event time earlier than the receive time by more than this is rejected (`timestamp_too_old`).
   * @defaultValue 604800000 (7 days)
   */
  maxAgeMs: number;
  /**
   * An accepted event time earlier than the receive time by more than this is stored with `late=true`
   * (a gateway's backlog, a device that buffered while offline).
   * @defaultValue 300000 (5 min)
   */
  lateAfterMs: number;
}

export const DEFAULT_EVENT_TIME_WINDOW: EventTimeWindow = { ...EVENT_TIME_DEFAULTS };

export type EventTimeVerdict =
  | { ok: true; late: boolean }
  | { ok: false; reason: 'timestamp_in_future' | 'timestamp_too_old'; detail: string };

const duration = (ms: number) => (ms >= 3_600_000 ? `${(ms / 3_600_000).toFixed(1)} h` : `${Math.round(ms / 1000)} s`);

/** Whether an event time is acceptable at `receivedAt`, and whether it is late. */
export function judgeEventTime(ts: number, receivedAt: number, window: EventTimeWindow): EventTimeVerdict {
  const ahead = ts - receivedAt;
  if (ahead > window.maxFutureMs) {
    return {
      ok: false,
      reason: 'timestamp_in_future',
      detail: `ts ${new Date(ts).toISOString()} is ${duration(ahead)} after the receive time; at most ${duration(window.maxFutureMs)} is accepted (check the device clock)`,
    };
  }
  const age = -ahead;
  if (age > window.maxAgeMs) {
    return {
      ok: false,
      reason: 'timestamp_too_old',
      detail: `ts ${new Date(ts).toISOString()} is ${duration(age)} before the receive time; at most ${duration(window.maxAgeMs)} is accepted`,
    };
  }
  return { ok: true, late: age > window.lateAfterMs };
}
