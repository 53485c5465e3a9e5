/** Which write API a sink speaks: InfluxDB 1.x `/write`, or `/api/v2/write` (InfluxDB 1.8+, 2.x, 3.x, Cloud). */
export type SinkApi = 'v1' | 'v2';

/** Where the worker writes line protocol. A write resolves only when the server has accepted every line. */
export interface Sink {
  readonly api: SinkApi;
  /**
   * Sends the lines in one request. Rejects with a `SinkWriteError` when the server did not accept every line;
   * the sink never retries or buffers, so the caller (the queue) owns retries.
   */
  write(lines: readonly string[]): Promise<void>;
  /** true when the server answers its health/ping endpoint */
  ping(): Promise<boolean>;
  /** Releases the sink's connections; later writes reject. */
  close(): Promise<void>;
}
