import { classifyWriteFailure, isWriteAccepted } from './classify-write-failure.ts';
import { pingEndpoints } from './ping-endpoints.ts';
import type { Sink } from './sink.ts';
import { checkBaseUrl, checkNonEmpty, checkPositiveMs } from './sink-options.ts';
import { networkWriteError } from './sink-write-error.ts';

/** An InfluxDB 1.x server before 1.8 (no `/api/v2/write`): Debian's 1.6.7. */
export interface V1SinkOptions {
  /** Base URL, e.g. `http://127.0.0.1:8086`. */
  url: string;
  /** Target database; it must exist (a write to a missing one fails with code `not_found`). */
  database: string;
  /**
   * Target retention policy.
   * @defaultValue the database's default retention policy
   */
  retentionPolicy?: string | undefined;
  /** Sent as HTTP Basic auth with `password` when the server has `auth-enabled`. */
  username?: string | undefined;
  password?: string | undefined;
  /**
   * Deadline for one write or ping, from sending the request to reading the answer.
   * @defaultValue 10_000
   */
  timeoutMs?: number | undefined;
}

export const V1_SINK_DEFAULTS = { timeoutMs: 10_000 } as const;

/** Writes with `POST /write?db=..&precision=ms`; success is 204. */
export function createV1Sink(input: V1SinkOptions): Sink {
  const label = 'createV1Sink';
  const url = checkBaseUrl(input.url, label);
  const database = checkNonEmpty(input.database, 'database', label);
  const timeoutMs = checkPositiveMs(input.timeoutMs ?? V1_SINK_DEFAULTS.timeoutMs, 'timeoutMs', label);

  const query = new URLSearchParams({ db: database, precision: 'ms' });
  if (input.retentionPolicy !== undefined)
    query.set('rp', checkNonEmpty(input.retentionPolicy, 'retentionPolicy', label));
  const writeUrl = `${url}/write?${query.toString()}`;
  const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
  if (input.username !== undefined) {
    headers.authorization = `Basic ${Buffer.from(`${input.username}:${input.password ?? ''}`).toString('base64')}`;
  }
  let closed = false;

  return {
    api: 'v1',
    async write(lines) {
      if (closed) throw new Error('createV1Sink: write after close()');
      if (lines.length === 0) return;
      const signal = AbortSignal.timeout(timeoutMs);
      let status: number;
      let body: string;
      let responseHeaders: Headers;
      try {
        const response = await fetch(writeUrl, { method: 'POST', headers, body: lines.join('\n'), signal });
        ({ status, headers: responseHeaders } = response);
        body = await response.text();
      } catch (cause) {
        throw networkWriteError(cause);
      }
      if (!isWriteAccepted(status)) throw classifyWriteFailure(status, body, responseHeaders, Date.now());
    },
    ping: () => pingEndpoints(url, [{ path: '/ping', isUp: (status) => status === 204 }], timeoutMs),
    close() {
      closed = true;
      return Promise.resolve();
    },
  };
}
