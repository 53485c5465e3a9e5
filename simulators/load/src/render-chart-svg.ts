import type { TimelineRow } from './load-report.ts';

export interface ChartInput {
  title: string;
  subtitle: string;
  timeline: readonly TimelineRow[];
  /** Shaded: the steady window the averages cover. */
  steadyWindowS?: [number, number];
}

const W = 1200;
const PANEL_H = 290;
const LEFT = 80;
const RIGHT = 30;
const TOP = 70;
const GAP = 70;
const COLORS = { target: '#888888', sent: '#1f77b4', acked: '#2ca02c', stored: '#ff7f0e', p50: '#2ca02c', p99: '#d62728', queryable: '#9467bd', queryableMax: '#c5b0d5' };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A round step for about `target` ticks over `span`: 1, 2 or 5 times a power of ten. */
export function niceStep(span: number, target = 5): number {
  if (!(span > 0)) return 1;
  const raw = span / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  const m = raw / power;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power;
}

const fmt = (v: number) => (v >= 1_000_000 ? `${v / 1_000_000}M` : v >= 1000 ? `${v / 1000}k` : String(Math.round(v * 1000) / 1000));

interface Series {
  name: string;
  color: string;
  points: Array<[number, number]>;
  dashed?: boolean;
  dots?: boolean;
}

function panel(top: number, label: string, series: Series[], xMax: number, log: boolean, steady?: [number, number]): string {
  const plotW = W - LEFT - RIGHT;
  const values = series.flatMap((s) => s.points.map((p) => p[1])).filter((v) => v > 0 || !log);
  const parts: string[] = [];
  const x = (s: number) => LEFT + (s / Math.max(1, xMax)) * plotW;
  let y: (v: number) => number;
  const ticks: number[] = [];
  if (log) {
    const lo = Math.floor(Math.log10(Math.max(0.01, Math.min(...values, 1))));
    const hi = Math.ceil(Math.log10(Math.max(...values, 10)));
    y = (v) => top + PANEL_H - ((Math.log10(Math.max(v, 10 ** lo)) - lo) / Math.max(1, hi - lo)) * PANEL_H;
    for (let e = lo; e <= hi; e++) ticks.push(10 ** e);
  } else {
    const max = Math.max(1, ...values);
    const step = niceStep(max);
    const top2 = Math.ceil(max / step) * step;
    y = (v) => top + PANEL_H - (v / top2) * PANEL_H;
    for (let v = 0; v <= top2 + step / 2; v += step) ticks.push(v);
  }
  if (steady) parts.push(`<rect x="${x(steady[0])}" y="${top}" width="${Math.max(0, x(steady[1]) - x(steady[0]))}" height="${PANEL_H}" fill="#f3f6fa"/>`);
  for (const t of ticks) {
    parts.push(`<line x1="${LEFT}" x2="${W - RIGHT}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#e2e2e2"/>`);
    parts.push(`<text x="${LEFT - 8}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end" font-size="12" fill="#444">${fmt(t)}</text>`);
  }
  const xStep = niceStep(xMax, 10);
  for (let s = 0; s <= xMax; s += xStep) {
    parts.push(`<line x1="${x(s).toFixed(1)}" x2="${x(s).toFixed(1)}" y1="${top + PANEL_H}" y2="${top + PANEL_H + 5}" stroke="#444"/>`);
    parts.push(`<text x="${x(s).toFixed(1)}" y="${top + PANEL_H + 19}" text-anchor="middle" font-size="12" fill="#444">${s}</text>`);
  }
  parts.push(`<rect x="${LEFT}" y="${top}" width="${plotW}" height="${PANEL_H}" fill="none" stroke="#999"/>`);
  parts.push(`<text x="${LEFT}" y="${top - 10}" font-size="14" font-weight="bold" fill="#222">${esc(label)}</text>`);
  let legendX = LEFT + 330;
  for (const s of series) {
    if (s.points.length === 0) continue;
    const path = s.points.map(([sx, v], i) => `${i === 0 ? 'M' : 'L'}${x(sx).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    if (s.dots) for (const [sx, v] of s.points) parts.push(`<circle cx="${x(sx).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.5" fill="${s.color}"/>`);
    else parts.push(`<path d="${path}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    parts.push(`<rect x="${legendX}" y="${top - 21}" width="14" height="4" fill="${s.color}"/><text x="${legendX + 19}" y="${top - 15}" font-size="12" fill="#222">${esc(s.name)}</text>`);
    legendX += 26 + s.name.length * 7;
  }
  return parts.join('\n');
}

/** Throughput and latency over the run, as an SVG two panels high. Pure. */
export function renderChartSvg({ title, subtitle, timeline, steadyWindowS }: ChartInput): string {
  const xMax = Math.max(1, ...timeline.map((r) => r.second + 1));
  const mid = (r: TimelineRow): number => r.second + 0.5;
  const pick = (f: (r: TimelineRow) => number | undefined): Array<[number, number]> =>
    timeline.flatMap((r) => {
      const v = f(r);
      return v === undefined ? [] : [[mid(r), v] as [number, number]];
    });
  const throughput: Series[] = [
    { name: 'target', color: COLORS.target, points: pick((r) => r.targetPerS), dashed: true },
    { name: 'sent', color: COLORS.sent, points: pick((r) => r.sentPerS) },
    { name: 'acknowledged', color: COLORS.acked, points: pick((r) => r.ackedPerS) },
    { name: 'stored (InfluxDB)', color: COLORS.stored, points: pick((r) => r.storedPerS) },
  ];
  const latency: Series[] = [
    { name: 'PUBACK p50', color: COLORS.p50, points: pick((r) => r.pubackP50Ms) },
    { name: 'PUBACK p99', color: COLORS.p99, points: pick((r) => r.pubackP99Ms) },
    { name: 'publish→queryable max', color: COLORS.queryableMax, points: pick((r) => r.queryableMaxMs), dots: true },
    { name: 'publish→queryable p50', color: COLORS.queryable, points: pick((r) => r.queryableP50Ms), dots: true },
  ];
  const h = TOP + 2 * PANEL_H + GAP + 70;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" font-family="DejaVu Sans, sans-serif">
<rect width="${W}" height="${h}" fill="white"/>
<text x="${LEFT}" y="26" font-size="18" font-weight="bold" fill="#111">${esc(title)}</text>
<text x="${LEFT}" y="46" font-size="12" fill="#555">${esc(subtitle)}</text>
${panel(TOP + 20, 'Readings per second', throughput, xMax, false, steadyWindowS)}
${panel(TOP + 20 + PANEL_H + GAP, 'Latency, ms (log scale)', latency, xMax, true, steadyWindowS)}
<text x="${LEFT + (W - LEFT - RIGHT) / 2}" y="${h - 8}" text-anchor="middle" font-size="12" fill="#444">seconds since the schedule started (shaded: the steady window the averages cover)</text>
</svg>`;
}
