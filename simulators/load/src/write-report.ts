import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import type { LoadReport } from './load-report.ts';
import { renderChartSvg } from './render-chart-svg.ts';
import { renderMarkdownReport } from './render-markdown-report.ts';

/** SVG to PNG with resvg (a prebuilt binary from npm, no system libraries), in the system's DejaVu fonts. */
export function svgToPng(svg: string): Buffer {
  return new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' }, fitTo: { mode: 'original' } }).render().asPng();
}

/** report.json, report.md, chart.svg and chart.png in the run's folder. */
export async function writeReport(dir: string, report: LoadReport, { chart = true } = {}): Promise<void> {
  await writeFile(path.join(dir, 'report.json'), `${JSON.stringify(report, null, 1)}\n`);
  await writeFile(path.join(dir, 'report.md'), renderMarkdownReport(report));
  if (!chart) return;
  const s = report.settings;
  const svg = renderChartSvg({
    title: `${report.scenario.name}${report.label ? ` — ${report.label}` : ''}: ${s.rate === 'max' ? 'closed loop' : `${s.rate.toLocaleString('en-US')} readings/s target`}, ${s.devices.toLocaleString('en-US')} devices, QoS ${s.qos}`,
    subtitle: `${report.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${report.machine.cpus} cores, load avg ${report.machine.loadAverageAtStart[0]} at the start · acked ${report.throughput.ackedPerS.toLocaleString('en-US')}/s, stored ${report.throughput.storedPerS?.toLocaleString('en-US') ?? '–'}/s · PUBACK p99 ${report.latency.pubackSteady.p99 ?? '–'} ms · publish→queryable p99 ${report.latency.publishToQueryable.p99 ?? '–'} ms · lost ${report.verification.lost ?? 'n/a'}`,
    timeline: report.timeline,
    steadyWindowS: report.throughput.steadyWindowS,
  });
  await writeFile(path.join(dir, 'chart.svg'), svg);
  await writeFile(path.join(dir, 'chart.png'), svgToPng(svg));
}
