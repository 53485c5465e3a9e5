/** The InfluxDB 1.x HTTP API the load command needs: databases, InfluxQL queries, line-protocol writes. */

interface Answer {
  error?: string;
  results?: Array<{ error?: string; series?: Array<{ name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }> }>;
}

export type Row = Record<string, unknown>;

async function call(url: string, path: string, params: Record<string, string>, method: 'GET' | 'POST'): Promise<Answer> {
  const response = await fetch(`${url}${path}?${new URLSearchParams(params).toString()}`, { method, signal: AbortSignal.timeout(60_000) });
  const text = await response.text();
  if (!response.ok) throw new Error(`InfluxDB ${method} ${path} answered ${response.status}: ${text.slice(0, 300)}`);
  const answer = JSON.parse(text) as Answer;
  const error = answer.error ?? answer.results?.find((r) => r.error !== undefined)?.error;
  if (error !== undefined) throw new Error(`InfluxDB "${params.q}" failed: ${error}`);
  return answer;
}

/** Every statement's rows (several statements may be sent at once, separated by `;`), tags as columns. */
export async function influxQuery(url: string, db: string, q: string): Promise<Row[][]> {
  const answer = await call(url, '/query', { db, q, epoch: 'ms' }, 'GET');
  return (answer.results ?? []).map((result) =>
    (result.series ?? []).flatMap((series) =>
      series.values.map((values) => {
        const row: Row = { ...series.tags, measurement: series.name };
        series.columns.forEach((column, i) => (row[column] = values[i]));
        return row;
      }),
    ),
  );
}

export const quoteIdentifier = (name: string) => `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
export const quoteString = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export async function createDatabase(url: string, db: string): Promise<void> {
  await call(url, '/query', { q: `CREATE DATABASE ${quoteIdentifier(db)}` }, 'POST');
}

export async function dropDatabase(url: string, db: string): Promise<void> {
  await call(url, '/query', { q: `DROP DATABASE ${quoteIdentifier(db)}` }, 'POST');
}

export async function influxPing(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(3000) });
    await response.body?.cancel();
    return response.status === 204;
  } catch {
    return false;
  }
}
