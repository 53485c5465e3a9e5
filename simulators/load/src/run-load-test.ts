import { execFileSync } from 'node:child_process';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { DEFAULT_EVENT_TIME_WINDOW, type EventTimeWindow } from '@city/core';
import { createDeviceRegistry, MAX_EXPECTED_INTERVAL_MS, MIN_EXPECTED_INTERVAL_MS, operatorUsername } from '@city/registry';
import { FAMILIES, type AlertRule, type Family } from '@city/schema';
import {
  buildScenarioFleet,
  episodeMemberships,
  fleetReadingsPerSimSecond,
  provisionFleet,
  resolveEpisodes,
  type Scenario,
  type ScenarioDevice,
} from '@city/simulator';
import { loadAlertRulesFile } from '@city/worker';
import { deletePrefix, countDeadLetters, countStoredByDevice, telemetryJobs } from './collect-outcome.ts';
import { createLoadFleet, type LoadFleet } from './create-load-fleet.ts';
import { expectAlerts } from './expected-alerts.ts';
import { findListenerPid } from './find-listener-pid.ts';
import { createDatabase, dropDatabase, influxPing } from './influx-v1.ts';
import { summarizeRun, type LoadReport, type ServiceSample } from './load-report.ts';
import { createMarkerWatch } from './marker-watch.ts';
import { sampleProcess } from './proc-stats.ts';
import { createProgressDisplay } from './progress-display.ts';
import { promByLabel, promValue, scrapeMetrics, type PromSamples } from './prom-text.ts';
import { createRateProfile } from './rate-profile.ts';
import { spawnNodeService, repoRoot, waitUntilReady, type NodeService } from './spawn-node-service.ts';
import { summarizeCpuProfile } from './summarize-cpu-profile.ts';
import { verifyRun } from './verify-run.ts';
import { watchAlerts, type AlertWatch } from './alert-watch.ts';
import { writeReport } from './write-report.ts';
import { startBaseline, type Baseline } from './baseline/start-baseline.ts';

export interface LoadTestOptions {
  scenario: Scenario;
  /** Where the scenario came from, for the report. */
  scenarioFile?: string;
  /** Readings per second; absent: the scenario's own pace (its acceleration); `max`: as fast as the windows allow. */
  rate?: number | 'max';
  /** Ramp from 5 % of the rate up to it over this long, then hold. @defaultValue 0 */
  rampMs?: number;
  durationMs: number;
  /** Overrides of the scenario. */
  qos?: 0 | 1;
  inFlightWindow?: number;
  readingsPerMessage?: number;
  /** Multiplies every family's device count. */
  scale?: number;
  /** Drop every fault of the scenario (benchmarks). */
  noFaults?: boolean;
  redisUrl: string;
  influxUrl: string;
  /** The worker's rules: a file, or `none` (storage only). @defaultValue config/alert-rules.json */
  rules?: string;
  /** Where the run's folder goes. @defaultValue <repo>/reports/load */
  reportRoot?: string;
  /** Keep the run's InfluxDB database and Redis keys. */
  keep?: boolean;
  /** `node --cpu-prof` the broker and the worker; the report lists their top functions. */
  profile?: boolean;
  /** Devices per source address (loopback aliases). @defaultValue 50 */
  devicesPerAddress?: number;
  /** Extra broker / worker environment (overrides ours). */
  brokerEnv?: Record<string, string>;
  workerEnv?: Record<string, string>;
  /** A name for the run in the report (e.g. "batched x10"). */
  label?: string;
  /**
   * What is loaded: our pipeline (broker, Redis, worker), or the baseline (Mosquitto and a plain subscriber writing
   * straight to InfluxDB). @defaultValue pipeline
   */
  target?: 'pipeline' | 'baseline';
  /**
   * The baseline subscriber's QoS: 0 is Telegraf's mqtt_consumer default (Mosquitto pushes without waiting), 1 has
   * Mosquitto wait for its acknowledgements (20 in flight). @defaultValue 1
   */
  baselineSubscriberQos?: 0 | 1;
  /** Live progress on stderr. @defaultValue true */
  progress?: boolean;
  /** Write the PNG chart. @defaultValue true */
  chart?: boolean;
}

export interface LoadTestResult {
  report: LoadReport;
  dir: string;
}

const MiB = 1024 * 1024;
const SWEEP_INTERVAL_MS = 1000;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** `count` loopback source addresses, 127.10.x.y: the broker sees a city of gateways, not one host. */
export function sourceAddresses(count: number): string[] {
  return Array.from({ length: count }, (_, k) => `127.10.${Math.floor(k / 250)}.${(k % 250) + 1}`);
}

/** The commit measured, marked `+changes` when the working tree differs from it (others' work in progress). */
function gitCommit(): string | undefined {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? '+changes' : ''}`;
  } catch {
    return undefined;
  }
}

const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);

/** The scenario with the command line's overrides applied. */
export function applyOverrides(scenario: Scenario, o: Pick<LoadTestOptions, 'qos' | 'inFlightWindow' | 'readingsPerMessage' | 'scale' | 'noFaults'>): Scenario {
  const devices: Scenario['devices'] = {};
  for (const family of FAMILIES) {
    const group = scenario.devices[family];
    if (!group) continue;
    devices[family] = {
      ...group,
      count: Math.round(group.count * (o.scale ?? 1)),
      readingsPerMessage: o.readingsPerMessage ?? group.readingsPerMessage,
    };
  }
  return {
    ...scenario,
    devices,
    qos: o.qos ?? scenario.qos,
    inFlightWindow: o.inFlightWindow ?? scenario.inFlightWindow,
    ...(o.noFaults ? { faults: { ...scenario.faults, malformedJson: 0, schemaViolation: 0, outOfRange: 0, duplicate: 0, outOfOrder: 0, late: 0, clockSkew: 0, oversize: 0, stuckSensors: 0, driftingSensors: 0, wrongCredentials: 0, silentDevices: undefined, reconnectStorms: undefined } } : {}),
  };
}

/**
 * A whole load run: starts a broker and a worker of its own (real `main.ts` processes, a fresh queue prefix and
 * InfluxDB database), registers the scenario's fleet, connects it, runs the schedule with live progress, waits for
 * the pipeline to drain, reads back what was stored, rejected and raised, checks it against what was sent, and
 * writes report.json, report.md and chart.png.
 */
export async function runLoadTest(options: LoadTestOptions): Promise<LoadTestResult> {
  const notes: string[] = [];
  const target = options.target ?? 'pipeline';
  const started = new Date();
  const loadAverageAtStart = os.loadavg().map((x) => Math.round(x * 100) / 100);
  const scenario = applyOverrides(options.scenario, options);
  const display = createProgressDisplay();
  const say = (text: string) => (options.progress === false ? undefined : display.log(`[load] ${text}`));

  // --- time, rate, fleet ---------------------------------------------------------------------------------------
  const wallStart = Date.now();
  const live = scenario.time.start.kind === 'now' && scenario.time.start.offsetMs === 0;
  const simStartMs = scenario.time.start.kind === 'now' ? wallStart + scenario.time.start.offsetMs : scenario.time.start.ms;
  const devices = buildScenarioFleet(scenario);
  const perSimSecond = fleetReadingsPerSimSecond(devices);
  const rate = options.rate ?? scenario.time.acceleration * perSimSecond;
  const speed = rate === 'max' ? undefined : live ? 1 : rate / perSimSecond;
  const durationMs = options.durationMs;
  const rampMs = options.rampMs ?? 0;
  const profile = rate === 'max' ? undefined : createRateProfile({ targetPerS: rate, rampMs });
  const simEndPlanned = live || profile === undefined ? wallStart + durationMs : simStartMs + profile.workAt(durationMs) / (perSimSecond / 1000);
  if (!live && profile !== undefined && simEndPlanned > wallStart - 60_000) {
    throw new Error(
      `simulated time would reach ${new Date(simEndPlanned).toISOString()}, past the wall clock: the broker refuses readings from the future. ` +
        `Start the scenario earlier (time.start, e.g. "now-3d") or lower --rate / --duration.`,
    );
  }
  // Replayed history is accepted whole, and not marked late for being history: the broker's window is widened to
  // the scenario's start. Live runs keep the defaults, so late and skewed clocks are judged as in production.
  const eventTimeWindow: EventTimeWindow = live
    ? DEFAULT_EVENT_TIME_WINDOW
    : (() => {
        const age = Math.max(DEFAULT_EVENT_TIME_WINDOW.maxAgeMs, wallStart - simStartMs + 2 * 86_400_000);
        if (age > 10 * 366 * 86_400_000) throw new Error('the scenario starts more than ten years ago: the broker accepts at most ten years');
        return { maxFutureMs: DEFAULT_EVENT_TIME_WINDOW.maxFutureMs, maxAgeMs: age, lateAfterMs: age };
      })();
  const maxPayloadBytes = 262_144;
  const episodes = resolveEpisodes(scenario.episodes, simStartMs);
  const memberships = episodeMemberships(devices, episodes, scenario);

  // --- names, servers --------------------------------------------------------------------------------------------
  const id = `${stamp(started)}-${target === 'baseline' ? 'baseline-' : ''}${scenario.name}${options.label ? `-${options.label.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}` : ''}`;
  const dir = path.join(options.reportRoot ?? path.join(repoRoot, 'reports/load'), id);
  await mkdir(dir, { recursive: true });
  const suffix = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const prefix = `load-${suffix}`;
  const db = `load_${suffix}`;
  if (!(await influxPing(options.influxUrl))) throw new Error(`InfluxDB does not answer at ${options.influxUrl} (bash infra/services.sh up)`);
  const redis = new Redis(options.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2, connectTimeout: 3000 });
  redis.on('error', () => {});
  await redis.connect().catch((err: Error) => {
    throw new Error(`Redis does not answer at ${options.redisUrl}: ${err.message} (bash infra/services.sh up)`);
  });
  await createDatabase(options.influxUrl, db);

  const services: NodeService[] = [];
  let fleet: LoadFleet | undefined;
  let alerts: AlertWatch | undefined;
  let sampler: NodeJS.Timeout | undefined;
  try {
    // --- rules, registry ---------------------------------------------------------------------------------------
    const byFamily = new Map<Family, ScenarioDevice[]>();
    for (const d of devices) byFamily.set(d.family, [...(byFamily.get(d.family) ?? []), d]);
    // Deadman rules judge silence by the interval a device is registered with: its real message interval.
    const registeredIntervalMs = (d: ScenarioDevice) =>
      Math.min(MAX_EXPECTED_INTERVAL_MS, Math.max(MIN_EXPECTED_INTERVAL_MS, speed === undefined ? MIN_EXPECTED_INTERVAL_MS : Math.round((d.intervalMs * d.readingsPerMessage) / speed)));
    const tokens = new Map<string, string>();
    let rules: AlertRule[] = [];
    let rulesFile = 'none';
    const addresses = sourceAddresses(Math.max(1, Math.ceil(devices.length / (options.devicesPerAddress ?? 50))));
    const [mqttPort, brokerOps, workerOps] = [await freePort(), await freePort(), await freePort()];
    let brokerEnv: Record<string, string> = {};
    let workerEnv: Record<string, string> = {};
    let broker: NodeService;
    let worker: NodeService;
    let baseline: Baseline | undefined;

    if (target === 'baseline') {
      say(`starting Mosquitto (mqtt :${mqttPort}) and the plain subscriber (InfluxDB database ${db})`);
      baseline = await startBaseline({ dir, mqttPort, influxUrl: options.influxUrl, db, subscriberQos: options.baselineSubscriberQos ?? 1 });
      broker = baseline.mosquitto;
      worker = baseline.subscriber;
    } else {
      rulesFile = options.rules ?? path.join(repoRoot, 'config/alert-rules.json');
      if (rulesFile === 'none') {
        rulesFile = path.join(dir, 'no-rules.json');
        await writeFile(rulesFile, JSON.stringify({ version: 2, rules: [] }));
      }
      rules = (await loadAlertRulesFile(rulesFile)).rules;
      const registry = createDeviceRegistry({ redis, prefix });
      say(`registering ${devices.length} devices under prefix ${prefix}`);
      for (const group of byFamily.values()) {
        const provisioned = await provisionFleet(registry, group, { expectedIntervalMs: registeredIntervalMs(group[0]!) });
        for (const [deviceId, token] of provisioned.tokens) tokens.set(deviceId, token);
      }
      const service = await registry.addOperator('alerts', 'service');
      const watcher = await registry.addOperator('load-watch', 'operator');
      if (!service.ok || !watcher.ok) throw new Error('operator accounts exist under a fresh prefix');

      // --- services --------------------------------------------------------------------------------------------
      const peakMsgPerDevice = speed === undefined ? Infinity : Math.max(...devices.map((d) => (1000 * speed) / (d.intervalMs * d.readingsPerMessage)));
      brokerEnv = {
        MQTT_HOST: '127.0.0.1',
        MQTT_PORT: String(mqttPort),
        OPS_PORT: String(brokerOps),
        REDIS_URL: options.redisUrl,
        QUEUE_PREFIX: prefix,
        LOG_LEVEL: 'warn',
        // One broker for the whole fleet (and a little room for the worker and the watcher).
        MAX_CONNECTIONS: String(Math.max(10_000, devices.length + 100)),
        // A device reporting faster than the default 20/s is the load test's doing, not misbehaviour: the limit
        // sits at twice the fastest device's planned rate (closed loop: out of the way).
        PUBLISHES_PER_SECOND_PER_CLIENT: String(Number.isFinite(peakMsgPerDevice) ? Math.max(20, Math.ceil(2 * peakMsgPerDevice)) : 1_000_000),
        PUBLISH_BURST_PER_CLIENT: String(Number.isFinite(peakMsgPerDevice) ? Math.max(200, Math.ceil(4 * peakMsgPerDevice)) : 1_000_000),
        EVENT_TIME_MAX_FUTURE_MS: String(eventTimeWindow.maxFutureMs),
        EVENT_TIME_MAX_AGE_MS: String(eventTimeWindow.maxAgeMs),
        EVENT_TIME_LATE_AFTER_MS: String(eventTimeWindow.lateAfterMs),
        MAX_PAYLOAD_BYTES: String(maxPayloadBytes),
        // Every reject of the run stays readable, so each can be counted.
        DEAD_LETTER_MAX_ENTRIES: String(10_000_000),
        ...options.brokerEnv,
      };
      workerEnv = {
        REDIS_URL: options.redisUrl,
        QUEUE_PREFIX: prefix,
        INFLUX_API: 'v1',
        INFLUX_URL: options.influxUrl,
        INFLUX_DB: db,
        ALERT_RULES_FILE: rulesFile,
        ALERT_MQTT_URL: `mqtt://127.0.0.1:${mqttPort}`,
        ALERT_MQTT_USERNAME: operatorUsername('alerts'),
        ALERT_MQTT_PASSWORD: service.token,
        ALERT_SWEEP_INTERVAL_MS: String(SWEEP_INTERVAL_MS),
        OPS_PORT: String(workerOps),
        LOG_LEVEL: 'warn',
        ...options.workerEnv,
      };
      // One folder per service: tsx's loader thread writes a (small) profile of its own beside the main thread's.
      const nodeArgs = (name: string) => (options.profile ? ['--cpu-prof', '--cpu-prof-dir', path.join(dir, 'profiles', name)] : []);
      say(`starting broker (mqtt :${mqttPort}) and worker (InfluxDB database ${db})`);
      broker = spawnNodeService('broker', { script: 'services/broker/src/main.ts', env: brokerEnv, nodeArgs: nodeArgs('broker'), logFile: path.join(dir, 'broker.log') });
      services.push(broker);
      await waitUntilReady(broker, `http://127.0.0.1:${brokerOps}/readyz`);
      worker = spawnNodeService('worker', { script: 'services/worker/src/main.ts', env: workerEnv, nodeArgs: nodeArgs('worker'), logFile: path.join(dir, 'worker.log') });
      services.push(worker);
      await waitUntilReady(worker, `http://127.0.0.1:${workerOps}/readyz`);
      alerts = await watchAlerts(`mqtt://127.0.0.1:${mqttPort}`, operatorUsername('load-watch'), watcher.token, `${operatorUsername('load-watch')}:${suffix}`);
    }
    if (baseline) services.push(baseline.subscriber, baseline.mosquitto);

    const redisPid = await findListenerPid(Number(new URL(options.redisUrl).port || 6379));
    const influxPid = await findListenerPid(Number(new URL(options.influxUrl).port || 8086));

    // --- sampling ------------------------------------------------------------------------------------------------
    const samples: ServiceSample[] = [];
    let lastBroker: PromSamples | undefined;
    let peakRss = { broker: 0, worker: 0, self: 0 };
    const cpuStart = process.cpuUsage();
    const sample = async () => {
      const atS = (fleet?.elapsedMs() ?? 0) / 1000;
      const pipeline = target === 'pipeline';
      const [self, b, w, r, i, bm, wm, mem] = await Promise.all([
        sampleProcess('self'),
        sampleProcess(broker.pid),
        sampleProcess(worker.pid),
        redisPid !== undefined ? sampleProcess(redisPid) : undefined,
        influxPid !== undefined ? sampleProcess(influxPid) : undefined,
        pipeline ? scrapeMetrics(`http://127.0.0.1:${brokerOps}/metrics`).catch(() => undefined) : undefined,
        pipeline ? scrapeMetrics(`http://127.0.0.1:${workerOps}/metrics`).catch(() => undefined) : undefined,
        redis.info('memory').catch(() => ''),
      ]);
      if (bm) lastBroker = bm;
      const cpu = process.cpuUsage(cpuStart);
      peakRss = { broker: Math.max(peakRss.broker, b?.peakRssBytes ?? 0), worker: Math.max(peakRss.worker, w?.peakRssBytes ?? 0), self: Math.max(peakRss.self, process.memoryUsage().rss) };
      const used = /used_memory:(\d+)/.exec(mem)?.[1];
      const s: ServiceSample = { atS, loadGeneratorCpuS: (cpu.user + cpu.system) / 1e6 };
      if (b) [s.brokerCpuS, s.brokerRssBytes, s.brokerRunWaitS] = [b.cpuS, b.rssBytes, b.runWaitS];
      if (w) [s.workerCpuS, s.workerRssBytes, s.workerRunWaitS] = [w.cpuS, w.rssBytes, w.runWaitS];
      if (self) s.loadGeneratorRunWaitS = self.runWaitS;
      if (r) s.redisCpuS = r.cpuS;
      if (i) s.influxCpuS = i.cpuS;
      if (wm) {
        s.pointsWritten = promValue(wm, 'city_worker_points_written_total');
        s.queuedJobs = promValue(wm, 'city_queue_jobs', { queue: 'telemetry', state: 'waiting' }) + promValue(wm, 'city_queue_jobs', { queue: 'telemetry', state: 'active' });
      }
      if (used !== undefined) s.redisUsedBytes = Number(used);
      const subscriber = baseline?.status();
      if (subscriber) {
        s.pointsWritten = subscriber.written;
        s.queuedJobs = subscriber.buffered;
      }
      samples.push(s);
      return s;
    };
    await sample();

    // --- the fleet -------------------------------------------------------------------------------------------------
    const markers = new Set<string>();
    for (const family of FAMILIES) {
      const d = devices.find((x) => x.family === family && !x.silent && !x.wrongCredentials && x.stuckFromReading === undefined && !x.drifting && !memberships.get(x.deviceId)?.some((e) => e.kind === 'power-outage'));
      if (d) markers.add(d.deviceId);
    }
    const markerPollMs = 100;
    const markerWatch = createMarkerWatch({ influxUrl: options.influxUrl, db, pollMs: markerPollMs, elapsedMs: () => fleet?.elapsedMs() ?? 0 });
    fleet = createLoadFleet({
      host: '127.0.0.1',
      port: mqttPort,
      devices,
      tokens,
      localAddresses: addresses,
      qos: scenario.qos,
      inFlightWindow: scenario.inFlightWindow,
      rate: profile ?? 'max',
      readingsPerSimSecond: perSimSecond,
      durationMs,
      time: { mode: live ? 'live' : 'replay', simStartMs },
      seed: scenario.seed,
      utcOffsetMinutes: scenario.utcOffsetMinutes,
      climateOffsetC: scenario.climate.temperatureOffsetC,
      episodes: memberships,
      faults: scenario.faults,
      eventTimeWindow,
      maxPayloadBytes,
      markers,
      onMarker: (m) => markerWatch.sent(m),
    });
    say(`connecting ${devices.length} devices from ${addresses.length} source addresses`);
    const connectStart = performance.now();
    const connect = await fleet.connectAll(Math.max(60_000, devices.length * 5));
    const connectS = (performance.now() - connectStart) / 1000;
    if (connect.connected < connect.devices) notes.push(`${connect.devices - connect.connected} devices were not connected when the schedule started`);
    say(`${connect.connected}/${connect.devices} connected in ${connectS.toFixed(1)} s; running ${durationMs / 1000} s at ${rate === 'max' ? 'the highest rate the windows allow' : `${Math.round(rate)} readings/s`}${rampMs > 0 ? ` (ramp ${rampMs / 1000} s)` : ''}`);

    const errorsBase = () => fleet!.ledger.connections.unexpectedCloses;
    let phase = 'run';
    sampler = setInterval(() => {
      void sample().then((s) => {
        if (options.progress === false || !fleet) return;
        const timeline = fleet.timeline;
        const last = timeline[Math.max(0, timeline.length - 2)];
        const prev = samples[samples.length - 2];
        display.show({
          phase,
          elapsedS: fleet.elapsedMs() / 1000,
          durationS: durationMs / 1000,
          ...(last?.targetPerS !== undefined ? { targetPerS: last.targetPerS } : {}),
          sentPerS: last?.sentReadings ?? 0,
          ackedPerS: last?.ackedReadings ?? 0,
          ...(s.pointsWritten !== undefined && prev?.pointsWritten !== undefined ? { storedPerS: (s.pointsWritten - prev.pointsWritten) / Math.max(0.1, s.atS - prev.atS) } : {}),
          ...(s.pointsWritten !== undefined ? { backlog: Math.max(0, fleet.ledger.ackedPoints - s.pointsWritten) } : {}),
          ...(last && last.puback.count > 0 ? { pubackP99Ms: last.puback.percentile(99)! } : {}),
          lagMs: last?.maxLagMs ?? 0,
          connected: fleet.connectedCount(),
          devices: devices.length,
          inFlight: fleet.inFlightCount(),
          errors: errorsBase(),
          ...(!live ? { simTime: localTime(fleet.simNowMs(), scenario.utcOffsetMinutes) } : {}),
        });
      });
    }, 1000);

    await fleet.run();
    const simEndMs = fleet.simNowMs();
    const scheduleEndedAt = Date.now();
    phase = 'drain';
    await fleet.stop(30_000);

    // --- let the pipeline finish ---------------------------------------------------------------------------------
    const drainStart = performance.now();
    let stableSince = 0;
    let lastWritten = -1;
    for (;;) {
      const jobs = target === 'pipeline' ? await telemetryJobs(redis, prefix) : { waiting: baseline?.status()?.buffered ?? 0, active: 0, delayed: 0, failed: 0 };
      const written = samples[samples.length - 1]?.pointsWritten ?? 0;
      const idle = jobs.waiting + jobs.active + jobs.delayed === 0;
      if (idle && written === lastWritten) {
        stableSince ||= performance.now();
        if (performance.now() - stableSince > 2000) break;
      } else stableSince = 0;
      lastWritten = written;
      if (performance.now() - drainStart > 180_000) {
        notes.push(`the pipeline had not drained 180 s after the run (${jobs.waiting} jobs waiting, ${jobs.delayed} delayed)`);
        break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    const lastWrite = samples.find((s) => s.pointsWritten === samples[samples.length - 1]?.pointsWritten);
    const drainS = (performance.now() - drainStart) / 1000;
    const markersNotSeen = await markerWatch.finish(20_000);
    // Alerts are delivered through their own queue: give the deadman sweep and delivery a moment.
    if (alerts) await new Promise((r) => setTimeout(r, 3 * SWEEP_INTERVAL_MS));
    clearInterval(sampler);
    sampler = undefined;
    display.done();
    const finalSample = await sample();

    // --- what happened -------------------------------------------------------------------------------------------
    say('reading back InfluxDB, the dead-letter stream and the broker counters');
    const stored = await countStoredByDevice(options.influxUrl, db, [...byFamily.keys()]);
    const deadLetters = target === 'pipeline' ? await countDeadLetters(redis, prefix) : {};
    const jobs = target === 'pipeline' ? await telemetryJobs(redis, prefix) : { failed: 0 };
    const brokerMetrics = lastBroker ?? new Map<string, number>();
    const authFailures = promByLabel(brokerMetrics, 'city_broker_auth_failures_total', 'reason');
    const silent = scenario.faults.silentDevices;
    // Every device falls silent when the schedule ends: deadman alerts raised after that are the run ending, not
    // the city. Threshold alerts still count however late the backlog brought them.
    const deadmanRules = new Set(rules.filter((r) => r.kind === 'deadman').map((r) => r.id));
    const raised = new Set<string>();
    let silentAtEnd = 0;
    for (const [key, at] of alerts?.raised ?? []) {
      if (deadmanRules.has(key.slice(0, key.indexOf('|'))) && at > scheduleEndedAt + 2000) silentAtEnd++;
      else raised.add(key);
    }
    if (silentAtEnd > 0) notes.push(`${silentAtEnd} deadman alerts raised after the schedule ended (the fleet fell silent) are left out`);
    const expectations = expectAlerts({
      devices,
      episodes,
      memberships,
      rules,
      simStartMs,
      simEndMs,
      speed,
      registeredIntervalMs,
      sweepIntervalMs: SWEEP_INTERVAL_MS,
      silent: silent && silent.share > 0 ? { fromMs: silent.after, untilMs: silent.for !== undefined ? silent.after + silent.for : undefined } : undefined,
      runMs: durationMs,
      ...(live
        ? {}
        : {
            leftOut: {
              devices: new Set([...fleet.ledger.skewStoredDevices].map((i) => devices[i]!.deviceId)),
              why: 'a clock-skewed reading of theirs was stored (replay time is in the past), which can hold their alert watermark hours ahead',
            },
          }),
    });
    const verification = verifyRun({
      ledger: fleet.ledger,
      deviceIds: devices.map((d) => d.deviceId),
      qos: scenario.qos,
      observed: {
        storedByDevice: stored.byDevice,
        storedLate: stored.late,
        deadLetters,
        authFailures,
        failedJobs: jobs.failed,
        raised,
        raisedByRule: alerts?.raisedByRule ?? {},
      },
      expectedAlerts: expectations.expected,
      unchecked: expectations.unchecked,
      troubled: {
        stuck: devices.filter((d) => d.stuckFromReading !== undefined).length,
        drifting: devices.filter((d) => d.drifting).length,
        silent: devices.filter((d) => d.silent).length,
      },
    });
    const summary = summarizeRun({
      seconds: fleet.timeline,
      durationS: durationMs / 1000,
      rampS: rampMs / 1000,
      samples,
      markers: markerWatch.latencies,
      puback: fleet.ledger.puback,
      lag: fleet.ledger.lag,
    });

    const alertTransitions = { ...alerts?.transitions };
    await alerts?.close();
    alerts = undefined;
    const preStop = { broker: await sampleProcess(broker.pid), worker: await sampleProcess(worker.pid) };
    await Promise.all(services.map((s) => s.stop()));
    services.length = 0;

    let profiles: LoadReport['profiles'];
    if (options.profile) {
      profiles = {};
      for (const name of ['broker', 'worker']) {
        const folder = path.join(dir, 'profiles', name);
        const files = await readdir(folder).catch(() => [] as string[]);
        const sized = await Promise.all(files.map(async (f) => ({ f, size: (await stat(path.join(folder, f))).size })));
        const main = sized.sort((a, b) => b.size - a.size)[0];
        if (main) profiles[name] = await summarizeCpuProfile(path.join(folder, main.f), 20);
      }
    }

    const runS = durationMs / 1000;
    const first = samples[0]!;
    const cpu = (end: number | undefined, start: number | undefined) => (end !== undefined && start !== undefined ? end - start : undefined);
    const brokerCpu = cpu(preStop.broker?.cpuS ?? finalSample.brokerCpuS, first.brokerCpuS);
    const workerCpu = cpu(preStop.worker?.cpuS ?? finalSample.workerCpuS, first.workerCpuS);
    const wallS = Math.max(1, finalSample.atS - first.atS);
    const proc = (cpuS: number | undefined, peak: number) => (cpuS === undefined ? undefined : { cpuS: round1(cpuS), cpuCores: round2(cpuS / wallS), peakRssMiB: round1(peak / MiB) });
    const redisUsed = samples.map((s) => s.redisUsedBytes).filter((x): x is number => x !== undefined);
    const redisCpu = cpu(finalSample.redisCpuS, first.redisCpuS);
    const influxCpu = cpu(finalSample.influxCpuS, first.influxCpuS);
    const brokerRes = proc(brokerCpu, Math.max(peakRss.broker, preStop.broker?.peakRssBytes ?? 0));
    const workerRes = proc(workerCpu, Math.max(peakRss.worker, preStop.worker?.peakRssBytes ?? 0));
    const storedPoints = verification.storedPoints;
    const endToEnd = lastWrite && lastWrite.atS > 0 ? storedPoints / lastWrite.atS : undefined;

    if (baseline) {
      const st = baseline.status();
      if (st) notes.push(`baseline subscriber: ${st.received} messages received, ${st.lines} lines, ${st.written} written, ${st.dropped} dropped from its buffer, ${st.writeErrors} write errors`);
    }
    const report: LoadReport = {
      kind: 'load',
      target,
      id,
      ...(options.label ? { label: options.label } : {}),
      startedAt: started.toISOString(),
      ...((commit) => (commit ? { commit } : {}))(gitCommit()),
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? 'unknown',
        memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
        node: process.version,
        loadAverageAtStart,
        loadAverageAtEnd: os.loadavg().map((x) => Math.round(x * 100) / 100),
      },
      scenario: { name: scenario.name, ...(options.scenarioFile ? { file: path.relative(repoRoot, options.scenarioFile) } : {}), ...(scenario.description ? { description: scenario.description } : {}) },
      settings: {
        rate: rate === 'max' ? 'max' : Math.round(rate),
        rampS: rampMs / 1000,
        durationS: runS,
        qos: scenario.qos,
        inFlightWindow: scenario.inFlightWindow,
        devices: devices.length,
        devicesByFamily: Object.fromEntries([...byFamily].map(([f, list]) => [f, list.length])),
        readingsPerMessage: [...new Set(devices.map((d) => d.readingsPerMessage))],
        sourceAddresses: addresses.length,
        time: { mode: live ? 'live' : 'replay', simStart: new Date(simStartMs).toISOString(), simEnd: new Date(simEndMs).toISOString(), ...(speed !== undefined ? { speed: round2(speed) } : {}) },
        rules: { file: path.relative(repoRoot, rulesFile), count: rules.length },
        servers: { redis: options.redisUrl, influxdb: options.influxUrl, database: db, prefix },
        brokerEnv: Object.fromEntries(Object.entries(brokerEnv).filter(([k]) => !/PASSWORD|TOKEN/.test(k))),
        workerEnv: Object.fromEntries(Object.entries(workerEnv).filter(([k]) => !/PASSWORD|TOKEN/.test(k))),
      },
      connect: { seconds: round1(connectS), connected: connect.connected, devices: connect.devices },
      throughput: {
        ...summary.throughput,
        steadyWindowS: summary.steadyWindowS,
        ...(rate !== 'max' ? { targetPerS: Math.round(rate) } : {}),
        ...(endToEnd !== undefined ? { endToEndStoredPerS: Math.round(endToEnd) } : {}),
        drainS: round1(drainS),
      },
      latency: { ...summary.latency, markersNotSeen, markerPollMs },
      totals: {
        messagesPublished: fleet.ledger.messages.published,
        messagesAcked: fleet.ledger.messages.acked,
        messagesRetransmitted: fleet.ledger.messages.retransmitted,
        messagesUnackedAtEnd: fleet.ledger.messages.unackedAtEnd,
        readingsSent: fleet.ledger.readings.sent,
        readingsAcked: fleet.ledger.readings.acked,
        readingsDark: fleet.ledger.readings.dark,
        readingsSilenced: fleet.ledger.readings.silenced,
        pointsStored: storedPoints,
        deadLetters: Object.values(deadLetters).reduce((a, b) => a + (b ?? 0), 0),
        connacks: fleet.ledger.connections.connacks as Record<string, number>,
        brokerRefusals: promByLabel(brokerMetrics, 'city_broker_connections_refused_total', 'reason'),
        brokerThrottled: promValue(brokerMetrics, 'city_broker_publishes_throttled_total'),
        alertTransitions,
      },
      verification,
      resources: {
        steadyCores: summary.steadyCores,
        steadyRunWait: summary.steadyRunWait,
        ...(brokerRes ? { broker: brokerRes } : {}),
        ...(workerRes ? { worker: workerRes } : {}),
        ...(redisCpu !== undefined ? { redis: { cpuS: round1(redisCpu), cpuCores: round2(redisCpu / wallS) } } : {}),
        ...(influxCpu !== undefined ? { influxdb: { cpuS: round1(influxCpu), cpuCores: round2(influxCpu / wallS) } } : {}),
        loadGenerator: { cpuS: round1(finalSample.loadGeneratorCpuS), cpuCores: round2(finalSample.loadGeneratorCpuS / wallS), peakRssMiB: round1(peakRss.self / MiB) },
        ...(redisUsed.length > 0 ? { redisMemory: { startMiB: round1(redisUsed[0]! / MiB), peakMiB: round1(Math.max(...redisUsed) / MiB), endMiB: round1(redisUsed[redisUsed.length - 1]! / MiB) } } : {}),
        ...(brokerCpu !== undefined && workerCpu !== undefined && storedPoints > 0 ? { pipelineCpuMsPer1000Readings: round2(((brokerCpu + workerCpu) * 1e6) / storedPoints) } : {}),
      },
      timeline: summary.timeline,
      ...(profiles ? { profiles } : {}),
      notes,
    };
    if (fleet.ledger.connections.lastError) notes.push(`last connection error seen by a device: ${fleet.ledger.connections.lastError}`);
    await writeReport(dir, report, { chart: options.chart !== false });
    return { report, dir };
  } finally {
    if (sampler) clearInterval(sampler);
    await alerts?.close().catch(() => {});
    await fleet?.stop(0).catch(() => {});
    await Promise.all(services.map((s) => s.stop().catch(() => null)));
    if (!options.keep) {
      await dropDatabase(options.influxUrl, db).catch(() => {});
      await deletePrefix(redis, prefix).catch(() => 0);
    }
    redis.disconnect();
  }
}

const round1 = (x: number) => Math.round(x * 10) / 10;
/** Simulated time as the city's clock shows it: `2026-01-14 17:05 +05:00`. */
function localTime(ms: number, offsetMinutes: number): string {
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 16).replace('T', ' ')} ${zone}`;
}
const round2 = (x: number) => Math.round(x * 100) / 100;
