/** Why a write failed, as a caller decides on it. */
export type SinkWriteErrorCode = 'network' | 'throttled' | 'server' | 'bad_request' | 'not_found' | 'unauthorized';

/** How much of the server's answer an error keeps. */
export const SINK_ERROR_BODY_MAX_CHARS = 1024;

export interface SinkWriteErrorInit {
  code: SinkWriteErrorCode;
  message: string;
  status?: number | undefined;
  retryable: boolean;
  retryAfterMs?: number | undefined;
  body?: string | undefined;
  cause?: unknown;
}

/** A write the server did not accept (or never answered). `retryable` says whether sending the same lines again can succeed. */
export class SinkWriteError extends Error {
  override readonly name = 'SinkWriteError';
  readonly code: SinkWriteErrorCode;
  /** HTTP status; undefined for network errors. */
  readonly status: number | undefined;
  readonly retryable: boolean;
  /** From the server's Retry-After header, when present. */
  readonly retryAfterMs: number | undefined;
  /** The server's answer, cut to SINK_ERROR_BODY_MAX_CHARS. */
  readonly body: string;

  constructor(init: SinkWriteErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.status = init.status;
    this.retryable = init.retryable;
    this.retryAfterMs = init.retryAfterMs;
    this.body = (init.body ?? '').slice(0, SINK_ERROR_BODY_MAX_CHARS);
  }
}

/** A request that got no HTTP answer: refused, reset, DNS, timed out. Always worth retrying. */
export function networkWriteError(cause: unknown): SinkWriteError {
  const detail = describeCause(cause);
  return new SinkWriteError({
    code: 'network',
    message: `write failed before the server answered: ${detail}`,
    retryable: true,
    cause,
  });
}

function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  // fetch wraps the socket error: "fetch failed" { cause: Error('connect ECONNREFUSED ...') }
  const inner = cause.cause instanceof Error ? `: ${cause.cause.message}` : '';
  return `${cause.message}${inner}`;
}
