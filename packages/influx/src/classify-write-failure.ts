import { SinkWriteError, type SinkWriteErrorCode } from './sink-write-error.ts';

/** Response headers as fetch (`Headers`) or node:http (`IncomingHttpHeaders`) hand them over. */
export type ResponseHeaders = Headers | Readonly<Record<string, string | readonly string[] | number | undefined>>;

// InfluxDB 1.x answers a write to a missing database (before 1.4: 404) or retention policy with 500; retrying
// never helps. 1.6.7: `{"error":"retention policy not found: rp"}`.
const MISSING_TARGET = /database not found|retention policy not found/i;

/**
 * Whether a write's HTTP status means every line is stored: 204 from InfluxDB and VictoriaMetrics; any other 2xx
 * except 201, which InfluxDB 3 Dedicated/Clustered answered for a partial write (influxdata/docs-v2#5169).
 */
export function isWriteAccepted(status: number): boolean {
  return status >= 200 && status <= 299 && status !== 201;
}

interface Verdict {
  code: SinkWriteErrorCode;
  retryable: boolean;
}

/**
 * Decides what a write's non-success HTTP answer means for the caller: its code, and whether sending the same
 * lines again can succeed. Pure: `nowMs` is only used to turn a Retry-After HTTP-date into a delay.
 */
export function classifyWriteFailure(
  status: number,
  body: string,
  headers: ResponseHeaders,
  nowMs?: number,
): SinkWriteError {
  const detail = errorText(body) || headerValue(headers, 'x-influxdb-error') || '(empty body)';
  const { code, retryable } = verdict(status, detail);
  return new SinkWriteError({
    code,
    status,
    retryable,
    retryAfterMs: parseRetryAfterMs(headerValue(headers, 'retry-after'), nowMs),
    body: body || detail,
    message: `write rejected with HTTP ${status} (${code}${retryable ? ', retryable' : ''}): ${detail}`,
  });
}

function verdict(status: number, detail: string): Verdict {
  switch (status) {
    case 201:
      // InfluxDB 3 Dedicated/Clustered with partial writes on: some lines were dropped (influxdata/docs-v2#5169).
      return { code: 'bad_request', retryable: false };
    case 400:
    case 413:
      return { code: 'bad_request', retryable: false };
    case 401:
    case 403:
      return { code: 'unauthorized', retryable: false };
    case 404:
      return { code: 'not_found', retryable: false };
    case 408:
      return { code: 'server', retryable: true };
    case 429:
    case 503:
      return { code: 'throttled', retryable: true };
  }
  if (status >= 500 && status <= 599) {
    return MISSING_TARGET.test(detail) ? { code: 'not_found', retryable: false } : { code: 'server', retryable: true };
  }
  if (status >= 400 && status <= 499) return { code: 'bad_request', retryable: false };
  // 1xx, 3xx (a redirect we do not follow), an unexpected 2xx: a misconfiguration that a retry will not fix.
  return { code: 'server', retryable: false };
}

/** `{"error": ...}` (InfluxDB 1.x), `{"message": ...}` (2.x/3.x), else the text itself. */
function errorText(body: string): string {
  const trimmed = body.trim();
  if (trimmed.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (typeof parsed === 'object' && parsed !== null) {
        const { error, message } = parsed as { error?: unknown; message?: unknown };
        if (typeof error === 'string') return error;
        if (typeof message === 'string') return message;
      }
    } catch {
      // not JSON after all: keep the text
    }
  }
  return trimmed;
}

function headerValue(headers: ResponseHeaders, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const value = headers[name];
  if (value === undefined) return undefined;
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  return value[0];
}

/** RFC 9110 §10.2.3: delay-seconds or an HTTP-date. */
export function parseRetryAfterMs(value: string | undefined, nowMs?: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  if (nowMs === undefined) return undefined;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
