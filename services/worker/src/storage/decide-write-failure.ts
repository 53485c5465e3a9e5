import { SinkWriteError } from '@city/influx';

/**
 * What the storage role does when a write failed:
 * - `wait`: the database is down, slow or throttling (network, 429, 503, other 5xx). Sending the same lines later
 *   will work: pause and hand the jobs back without using an attempt, however long that takes.
 * - `split`: the database refused some lines (400; a partial write keeps the valid ones, InfluxDB 1.x). Write the
 *   halves again until each refused line stands alone, then dead-letter exactly those.
 * - `fail`: no retry can fix it (a missing database or retention policy, a refused login): the jobs go to the
 *   failed set with their readings, for replay once fixed, and operators are told.
 * - `error`: not a write failure (a bug, Redis): thrown as is, and the queue retries it with backoff.
 */
export type WriteFailureAction = 'wait' | 'split' | 'fail' | 'error';

export function decideWriteFailure(err: unknown): WriteFailureAction {
  if (!(err instanceof SinkWriteError)) return 'error';
  if (err.retryable) return 'wait';
  return err.code === 'bad_request' ? 'split' : 'fail';
}
