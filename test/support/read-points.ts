/**
 * Read-back helpers for tests: what is really stored in InfluxDB 1.x and VictoriaMetrics.
 * They throw on any non-2xx answer or query error, so a test never mistakes "unreachable" for "empty".
 */

/** One stored point of an InfluxQL answer: `time` (epoch ms), then the tags and fields as columns. */
export type InfluxRow = Record<string, unknown>;

interface InfluxQueryAnswer {
  error?: string;
  results?: Array<{
    statement_id?: number;
    error?: string;
    partial?: boolean;
    series?: Array<{
      name: string;
      tags?: Record<string, string>;
      columns: string[];
      values: unknown[][];
      partial?: boolean;
    }>;
  }>;
}

async function influxV1(
  url: string,
  params: Record<string, string>,
  method: 'GET' | 'POST',
): Promise<InfluxQueryAnswer> {
  const query = new URLSearchParams(params).toString();
  const response = await fetch(`${url}/query?${query}`, { method, signal: AbortSignal.timeout(30_000) });
  const text = await response.text();
  if (!response.ok) throw new Error(`InfluxDB ${method} /query answered ${response.status}: ${text}`);
  const answer = JSON.parse(text) as InfluxQueryAnswer;
  const error = answer.error ?? answer.results?.find((r) => r.error !== undefined)?.error;
  if (error !== undefined) throw new Error(`InfluxDB query "${params.q}" failed: ${error}`);
  return answer;
}

/** Runs an InfluxQL query (`epoch=ms`) and flattens every series into rows; GROUP BY tags become columns too. */
export async function queryInfluxV1(url: string, db: string, influxql: string): Promise<InfluxRow[]> {
  const answer = await influxV1(url, { db, q: influxql, epoch: 'ms' }, 'GET');
  const rows: InfluxRow[] = [];
  for (const result of answer.results ?? []) {
    if (result.partial === true)
      throw new Error(`InfluxDB cut the answer to "${influxql}" (max-row-limit): narrow the query`);
    for (const series of result.series ?? []) {
      if (series.partial === true)
        throw new Error(`InfluxDB cut a series of "${influxql}" (max-row-limit): narrow the query`);
      for (const values of series.values) {
        const row: InfluxRow = { ...series.tags };
        series.columns.forEach((column, i) => {
          row[column] = values[i];
        });
        rows.push(row);
      }
    }
  }
  return rows;
}

/** An InfluxQL identifier in double quotes. */
export function quoteInfluxIdentifier(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export async function createInfluxV1Database(url: string, db: string): Promise<void> {
  await influxV1(url, { q: `CREATE DATABASE ${quoteInfluxIdentifier(db)}` }, 'POST');
}

export async function dropInfluxV1Database(url: string, db: string): Promise<void> {
  await influxV1(url, { q: `DROP DATABASE ${quoteInfluxIdentifier(db)}` }, 'POST');
}

/** One series as `/api/v1/export` returns it: labels (with `__name__`), and parallel value/timestamp (ms) arrays. */
export interface VictoriaSeries {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

/**
 * Every raw sample of the series matching `match` (a series selector such as `{__name__=~"m_.*"}`), over all time.
 * Flushes VictoriaMetrics' in-memory buffers first so just-written samples are visible.
 */
export async function exportVictoria(url: string, match: string): Promise<VictoriaSeries[]> {
  const flush = await fetch(`${url}/internal/force_flush`, { signal: AbortSignal.timeout(30_000) });
  await flush.body?.cancel();
  if (!flush.ok) throw new Error(`VictoriaMetrics /internal/force_flush answered ${flush.status}`);
  const query = new URLSearchParams({ 'match[]': match, start: '0' }).toString();
  const response = await fetch(`${url}/api/v1/export?${query}`, { signal: AbortSignal.timeout(30_000) });
  const text = await response.text();
  if (!response.ok) throw new Error(`VictoriaMetrics /api/v1/export answered ${response.status}: ${text}`);
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as VictoriaSeries);
}
