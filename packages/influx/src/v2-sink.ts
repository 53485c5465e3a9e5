import http from 'node:http';
import https from 'node:https';
import { HttpError, InfluxDB } from '@influxdata/influxdb-client';
import { classifyWriteFailure, isWriteAccepted } from './classify-write-failure.ts';
import { pingEndpoints } from './ping-endpoints.ts';
import type { Sink } from './sink.ts';
import { checkBaseUrl, checkNonEmpty, checkPositiveMs } from './sink-options.ts';
import { networkWriteError, type SinkWriteError } from './sink-write-error.ts';

/** A server that takes `/api/v2/write`: InfluxDB 2.x, 3.x, Cloud, 1.8+ (bucket `db/rp`), VictoriaMetrics. */
export interface V2SinkOptions {
  /** Base URL, e.g. `http://127.0.0.1:8086` (no `/api/v2`). */
  url: string;
  /**
   * Sent as `Authorization: Token ..`. InfluxDB 1.8+ takes `username:password`.
   * @defaultValue none (no Authorization header)
   */
  token?: string | undefined;
  /** Organization name or id; InfluxDB 1.8 and VictoriaMetrics ignore it. */
  org: string;
  /** Target bucket (InfluxDB 1.8+: `database/retention-policy`). */
  bucket: string;
  /**
   * Deadline for one write or ping, from sending the request to reading the answer.
   * @defaultValue 10_000
   */
  timeoutMs?: number | undefined;
  /**
   * Bodies larger than this are sent gzipped. Saves bandwidth to a remote server, costs CPU here: with the client's
   * default (1000) 5,000-line batches to VictoriaMetrics on loopback went at about half the rate (see README.md).
   * @defaultValue Infinity (never gzip)
   */
  gzipThresholdBytes?: number | undefined;
}

export const V2_SINK_DEFAULTS = { timeoutMs: 10_000, gzipThresholdBytes: Number.POSITIVE_INFINITY } as const;

/**
 * Writes through the official client's transport (`InfluxDB#transport.send`), one request per `write` call.
 *
 * The client's WriteApi is not used: it splits a write into `batchSize` chunks whose failures it swallows, retries
 * and buffers on its own, and cannot take a per-request deadline (see the package README). The transport keeps the
 * client's wire format (path, token, gzip, HttpError with status, body and headers) without any of that.
 */
export function createV2Sink(input: V2SinkOptions): Sink {
  const label = 'createV2Sink';
  const url = checkBaseUrl(input.url, label);
  const org = checkNonEmpty(input.org, 'org', label);
  const bucket = checkNonEmpty(input.bucket, 'bucket', label);
  const timeoutMs = checkPositiveMs(input.timeoutMs ?? V2_SINK_DEFAULTS.timeoutMs, 'timeoutMs', label);
  const gzipThreshold = input.gzipThresholdBytes ?? V2_SINK_DEFAULTS.gzipThresholdBytes;
  if (Number.isNaN(gzipThreshold) || gzipThreshold < 0)
    throw new RangeError(`${label}: gzipThresholdBytes must be >= 0`);

  // Our own keep-alive agent, so close() really releases the sockets.
  const agent = url.startsWith('https:') ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  const client = new InfluxDB({ url, token: input.token, timeout: timeoutMs, transportOptions: { agent } });
  const path = `/api/v2/write?${new URLSearchParams({ org, bucket, precision: 'ms' }).toString()}`;
  const sendOptions = {
    method: 'POST',
    headers: { 'content-type': 'text/plain; charset=utf-8' },
    // The transport compares `gzipThreshold < body.length`; an infinite threshold never gzips.
    gzipThreshold,
  };
  let closed = false;

  function toSinkError(error: Error): SinkWriteError {
    if (error instanceof HttpError)
      return classifyWriteFailure(error.statusCode, error.body ?? '', error.headers ?? {}, Date.now());
    return networkWriteError(error);
  }

  return {
    api: 'v2',
    write(lines) {
      if (closed) return Promise.reject(new Error('createV2Sink: write after close()'));
      if (lines.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        let status: number | undefined;
        let headers: http.IncomingHttpHeaders = {};
        const chunks: Uint8Array[] = [];
        // The transport answers ≥ 300 through error(HttpError), everything else through complete() (after next()).
        client.transport.send(
          path,
          lines.join('\n'),
          { ...sendOptions, signal: AbortSignal.timeout(timeoutMs) },
          {
            responseStarted(responseHeaders, statusCode) {
              status = statusCode;
              headers = responseHeaders;
            },
            next(chunk) {
              chunks.push(chunk);
            },
            error(error) {
              reject(toSinkError(error));
            },
            complete() {
              if (status === undefined || isWriteAccepted(status)) resolve();
              else reject(classifyWriteFailure(status, Buffer.concat(chunks).toString('utf8'), headers, Date.now()));
            },
          },
        );
      });
    },
    ping: () =>
      pingEndpoints(
        url,
        [
          { path: '/health', isUp: (status) => status >= 200 && status <= 299 },
          { path: '/ping', isUp: (status) => status === 204 },
        ],
        timeoutMs,
      ),
    close() {
      closed = true;
      agent.destroy();
      return Promise.resolve();
    },
  };
}
