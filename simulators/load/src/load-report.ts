import type { FleetSecond } from './fleet-ledger.ts';
import { LatencyHistogram, percentileOf } from './latency-histogram.ts';
import type { MarkerLatency } from './marker-watch.ts';
import type { Verification } from './verify-run.ts';

/** One sample of the services, taken every second by the load command. */
export interface ServiceSample {
  /** Seconds since the schedule started (may be negative: before it). */
  atS: number;
  brokerCpuS?: number;
  workerCpuS?: number;
  redisCpuS?: number;
  influxCpuS?: number;
  loadGeneratorCpuS: number;
  /** Run-queue waits (runnable, no CPU free), s: how starved each process was on this shared machine. */
  brokerRunWaitS?: number;
  workerRunWaitS?: number;
  loadGeneratorRunWaitS?: number;
  brokerRssBytes?: number;
  workerRssBytes?: number;
  /** `city_worker_points_written_total`. */
  pointsWritten?: number;
  /** Telemetry jobs waiting + active (each holds up to BATCH_MAX_READINGS readings). */
  queuedJobs?: number;
  redisUsedBytes?: number;
}

export interface Percentiles {
  count: number;
  p50?: number;
  p95?: number;
  p99?: number;
  max?: number;
}

export interface TimelineRow {
  second: number;
  targetPerS?: number;
  sentPerS: number;
  ackedPerS: number;
  storedPerS?: number;
  /** Telemetry jobs waiting in Redis at the end of the second. */
  queuedJobs?: number;
  pubackP50Ms?: number;
  pubackP99Ms?: number;
  /** Markers published in this second: their publish → queryable, median and worst. */
  queryableP50Ms?: number;
  queryableMaxMs?: number;
  lagMs: number;
  connected: number;
  brokerCpuPct?: number;
  workerCpuPct?: number;
  /** The broker's main thread runnable but without a CPU, % of the second: the machine was the limit. */
  brokerWaitPct?: number;
}

export interface RunSummary {
  /** The steady part of the run the rates are averaged over: after the ramp and the first seconds, before the end. */
  steadyWindowS: [number, number];
  throughput: {
    sentPerS: number;
    ackedPerS: number;
    storedPerS: number | undefined;
    /** The best 5 consecutive seconds of acknowledgements. */
    peakAckedPerS: number;
  };
  latency: { puback: Percentiles; pubackSteady: Percentiles; publishToQueryable: Percentiles; lag: Percentiles };
  /** CPU each process used in the steady window, in cores (1 = one core busy all the time). */
  steadyCores: Partial<Record<'broker' | 'worker' | 'redis' | 'influxdb' | 'loadGenerator', number>>;
  /** Share of the steady window each process spent runnable but waiting for a CPU (0..1). */
  steadyRunWait: Partial<Record<'broker' | 'worker' | 'loadGenerator', number>>;
  timeline: TimelineRow[];
}

const round = (x: number | undefined, digits = 1) => (x === undefined ? undefined : Math.round(x * 10 ** digits) / 10 ** digits);

export function histogramPercentiles(h: LatencyHistogram): Percentiles {
  return { count: h.count, p50: round(h.percentile(50), 2), p95: round(h.percentile(95), 2), p99: round(h.percentile(99), 2), max: round(h.count > 0 ? h.max : undefined, 2) };
}

export function valuePercentiles(values: readonly number[]): Percentiles {
  return {
    count: values.length,
    p50: round(percentileOf(values, 50)),
    p95: round(percentileOf(values, 95)),
    p99: round(percentileOf(values, 99)),
    max: round(values.length > 0 ? Math.max(...values) : undefined),
  };
}

/** The value of a cumulative series at whole second `s`, interpolated between the samples around it. */
function at(samples: readonly ServiceSample[], s: number, pick: (x: ServiceSample) => number | undefined): number | undefined {
  let before: ServiceSample | undefined;
  for (const sample of samples) {
    const v = pick(sample);
    if (v === undefined) continue;
    if (sample.atS <= s) before = sample;
    else {
      if (!before) return v;
      const vb = pick(before)!;
      return vb + ((v - vb) * (s - before.atS)) / (sample.atS - before.atS);
    }
  }
  return before ? pick(before) : undefined;
}

/**
 * Rates, latencies and the per-second timeline of a run, from what the fleet, the marker watch and the service
 * sampler recorded. Pure. Rates are averaged over the steady window: from the end of the ramp (plus `settleS`)
 * to one second before the schedule ended.
 */
export function summarizeRun(input: {
  seconds: readonly FleetSecond[];
  durationS: number;
  rampS: number;
  samples: readonly ServiceSample[];
  markers: readonly MarkerLatency[];
  puback: LatencyHistogram;
  lag: LatencyHistogram;
  /** @defaultValue 2 */
  settleS?: number;
}): RunSummary {
  const { seconds, samples } = input;
  const from = Math.min(Math.ceil(input.rampS) + (input.settleS ?? 2), Math.max(0, input.durationS - 2));
  const to = Math.max(from + 1, Math.floor(input.durationS) - 1);
  const inWindow = seconds.filter((s) => s.second >= from && s.second < to);
  const span = Math.max(1, to - from);
  const sum = (pick: (s: FleetSecond) => number) => inWindow.reduce((n, s) => n + pick(s), 0);

  const written = (s: number) => at(samples, s, (x) => x.pointsWritten);
  const wFrom = written(from);
  const wTo = written(to);
  const storedPerS = wFrom !== undefined && wTo !== undefined ? (wTo - wFrom) / span : undefined;

  let peak = 0;
  for (let i = 0; i + 5 <= seconds.length && seconds[i]!.second + 5 <= input.durationS; i++) {
    const five = seconds.slice(i, i + 5).reduce((n, s) => n + s.ackedReadings, 0) / 5;
    peak = Math.max(peak, five);
  }

  const steady = new LatencyHistogram();
  for (const s of inWindow) steady.merge(s.puback);

  const markersBySecond = new Map<number, number[]>();
  for (const m of input.markers) {
    const s = Math.floor(m.atMs / 1000);
    const list = markersBySecond.get(s) ?? [];
    list.push(m.latencyMs);
    markersBySecond.set(s, list);
  }

  const timeline: TimelineRow[] = seconds.map((s) => {
    const cpu = (pick: (x: ServiceSample) => number | undefined) => {
      const a = at(samples, s.second, pick);
      const b = at(samples, s.second + 1, pick);
      return a !== undefined && b !== undefined ? round((b - a) * 100) : undefined;
    };
    const w0 = written(s.second);
    const w1 = written(s.second + 1);
    const markers = markersBySecond.get(s.second);
    const queued = at(samples, s.second + 1, (x) => x.queuedJobs);
    const row: TimelineRow = {
      second: s.second,
      sentPerS: s.sentReadings,
      ackedPerS: s.ackedReadings,
      lagMs: Math.round(s.maxLagMs),
      connected: s.connected,
    };
    if (s.targetPerS !== undefined) row.targetPerS = Math.round(s.targetPerS);
    if (w0 !== undefined && w1 !== undefined) row.storedPerS = Math.round(w1 - w0);
    if (queued !== undefined) row.queuedJobs = Math.round(queued);
    if (s.puback.count > 0) {
      row.pubackP50Ms = round(s.puback.percentile(50), 2);
      row.pubackP99Ms = round(s.puback.percentile(99), 2);
    }
    if (markers) {
      row.queryableP50Ms = round(percentileOf(markers, 50));
      row.queryableMaxMs = round(Math.max(...markers));
    }
    const brokerCpu = cpu((x) => x.brokerCpuS);
    const workerCpu = cpu((x) => x.workerCpuS);
    if (brokerCpu !== undefined) row.brokerCpuPct = brokerCpu;
    const brokerWait = cpu((x) => x.brokerRunWaitS);
    if (brokerWait !== undefined) row.brokerWaitPct = brokerWait;
    if (workerCpu !== undefined) row.workerCpuPct = workerCpu;
    return row;
  });

  const steadyCores: RunSummary['steadyCores'] = {};
  const picks = { broker: (x: ServiceSample) => x.brokerCpuS, worker: (x: ServiceSample) => x.workerCpuS, redis: (x: ServiceSample) => x.redisCpuS, influxdb: (x: ServiceSample) => x.influxCpuS, loadGenerator: (x: ServiceSample) => x.loadGeneratorCpuS };
  for (const [name, pick] of Object.entries(picks) as Array<[keyof typeof picks, (x: ServiceSample) => number | undefined]>) {
    const a = at(samples, from, pick);
    const b = at(samples, to, pick);
    if (a !== undefined && b !== undefined) steadyCores[name] = round((b - a) / span, 2)!;
  }

  const steadyRunWait: RunSummary['steadyRunWait'] = {};
  const waits = { broker: (x: ServiceSample) => x.brokerRunWaitS, worker: (x: ServiceSample) => x.workerRunWaitS, loadGenerator: (x: ServiceSample) => x.loadGeneratorRunWaitS };
  for (const [name, pick] of Object.entries(waits) as Array<[keyof typeof waits, (x: ServiceSample) => number | undefined]>) {
    const a = at(samples, from, pick);
    const b = at(samples, to, pick);
    if (a !== undefined && b !== undefined) steadyRunWait[name] = round((b - a) / span, 2)!;
  }

  return {
    steadyWindowS: [from, to],
    steadyCores,
    steadyRunWait,
    throughput: {
      sentPerS: Math.round(sum((s) => s.sentReadings) / span),
      ackedPerS: Math.round(sum((s) => s.ackedReadings) / span),
      storedPerS: storedPerS === undefined ? undefined : Math.round(storedPerS),
      peakAckedPerS: Math.round(peak),
    },
    latency: {
      puback: histogramPercentiles(input.puback),
      pubackSteady: histogramPercentiles(steady),
      publishToQueryable: valuePercentiles(input.markers.map((m) => m.latencyMs)),
      lag: histogramPercentiles(input.lag),
    },
    timeline,
  };
}

/** A process's resources over the run. */
export interface ProcessResources {
  cpuS: number;
  /** CPU seconds per second of the run, as a share of one core. */
  cpuCores: number;
  peakRssMiB: number;
}

/** Everything a load run reports: written as report.json, and rendered to report.md and chart.png. */
export interface LoadReport {
  kind: 'load';
  /** Our pipeline, or the baseline (Mosquitto + a plain subscriber). */
  target: 'pipeline' | 'baseline';
  id: string;
  label?: string;
  startedAt: string;
  commit?: string;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; loadAverageAtStart: number[]; loadAverageAtEnd: number[] };
  scenario: { name: string; file?: string; description?: string };
  settings: {
    rate: number | 'max';
    rampS: number;
    durationS: number;
    qos: 0 | 1;
    inFlightWindow: number;
    devices: number;
    devicesByFamily: Record<string, number>;
    readingsPerMessage: number[];
    sourceAddresses: number;
    time: { mode: 'live' | 'replay'; simStart: string; simEnd: string; speed?: number };
    rules: { file: string; count: number };
    servers: { redis: string; influxdb: string; database: string; prefix: string };
    brokerEnv: Record<string, string>;
    workerEnv: Record<string, string>;
  };
  connect: { seconds: number; connected: number; devices: number };
  throughput: RunSummary['throughput'] & { steadyWindowS: [number, number]; targetPerS?: number; endToEndStoredPerS?: number; drainS: number };
  latency: RunSummary['latency'] & { markersNotSeen: number; markerPollMs: number };
  totals: {
    messagesPublished: number;
    messagesAcked: number;
    messagesRetransmitted: number;
    messagesUnackedAtEnd: number;
    readingsSent: number;
    readingsAcked: number;
    readingsDark: number;
    readingsSilenced: number;
    pointsStored: number;
    deadLetters: number;
    connacks: Record<string, number>;
    brokerRefusals: Record<string, number>;
    brokerThrottled: number;
    alertTransitions: Record<string, number>;
  };
  verification: Verification;
  resources: {
    /** CPU in the steady window, cores. */
    steadyCores: RunSummary['steadyCores'];
    /** Runnable but waiting for a CPU, share of the steady window. */
    steadyRunWait: RunSummary['steadyRunWait'];
    broker?: ProcessResources;
    worker?: ProcessResources;
    redis?: { cpuS: number; cpuCores: number };
    influxdb?: { cpuS: number; cpuCores: number };
    loadGenerator: ProcessResources;
    redisMemory?: { startMiB: number; peakMiB: number; endMiB: number };
    /** Broker + worker CPU per 1000 readings stored, ms. */
    pipelineCpuMsPer1000Readings?: number;
  };
  timeline: TimelineRow[];
  profiles?: Record<string, Array<{ function: string; where: string; selfPct: number; selfMs: number }>>;
  notes: string[];
}
