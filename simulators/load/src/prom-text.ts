/**
 * Reads values out of Prometheus' text exposition (what `/metrics` serves): `name{labels} value` lines, comments
 * skipped. Pure; enough for the counters and gauges the load command follows.
 */
export type PromSamples = Map<string, number>;

export function parsePromText(text: string): PromSamples {
  const samples: PromSamples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    const value = Number(line.slice(space + 1));
    if (Number.isFinite(value)) samples.set(line.slice(0, space), value);
  }
  return samples;
}

/** The sum of every series of `name` whose labels include all of `labels` (none: every series). */
export function promValue(samples: PromSamples, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const [series, value] of samples) {
    const brace = series.indexOf('{');
    const seriesName = brace < 0 ? series : series.slice(0, brace);
    if (seriesName !== name) continue;
    if (wanted.every((pair) => series.includes(pair))) sum += value;
  }
  return sum;
}

/** Every series of `name`, by the value of one label: `{reason: count}`. */
export function promByLabel(samples: PromSamples, name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  const pattern = new RegExp(`${label}="([^"]*)"`);
  for (const [series, value] of samples) {
    if (!series.startsWith(`${name}{`)) continue;
    const key = pattern.exec(series)?.[1];
    if (key !== undefined) out[key] = (out[key] ?? 0) + value;
  }
  return out;
}

export async function scrapeMetrics(url: string): Promise<PromSamples> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return parsePromText(await response.text());
}
