import { telemetryTopic } from '@city/schema';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { SimDevice } from './build-fleet.ts';
import { emptyFleetCounts, type FleetCounts } from './fleet-counts.ts';
import type { DeviceState, GenerateReadingOptions } from './generate-reading.ts';
import { planMessage } from './plan-message.ts';
import { createRng, hashSeed, type Rng } from './random.ts';

/** Periodic statistics, handed to `onProgress`. */
export interface FleetProgress extends FleetCounts {
  /** Since `runFleet` was called. */
  elapsedMs: number;
  devices: number;
  /** Clients connected right now. */
  connected: number;
  /** Messages sent per second since the previous progress report. */
  sentPerS: number;
  /** Messages acknowledged per second since the previous progress report. */
  ackedPerS: number;
  /** The latest connection error, to tell a refused connection from a slow broker. */
  lastConnectionError?: string;
}

export interface RunFleetOptions {
  /** Broker URL, e.g. `mqtt://127.0.0.1:1883`. */
  url: string;
  /** The devices to simulate, usually from `buildFleet`. */
  devices: readonly SimDevice[];
  /**
   * Time between two messages of one device. Each device starts at a random offset within the first interval.
   * @defaultValue 1000
   */
  intervalMs?: number;
  /**
   * MQTT QoS of every publish.
   * @defaultValue 1
   */
  qos?: 0 | 1;
  /**
   * Readings per message; above 1 each message is a JSON array.
   * @defaultValue 1
   */
  batchSize?: number;
  /**
   * Chance, per message, of an invalid payload.
   * @defaultValue 0
   */
  invalidRate?: number;
  /**
   * Chance, per message, of an over-threshold reading.
   * @defaultValue 0
   */
  overThresholdRate?: number;
  /**
   * Seeds every device's random stream (with its id): the same seed publishes the same readings.
   * @defaultValue 1
   */
  seed?: number;
  /**
   * Passed to every generated reading.
   * @defaultValue {}
   */
  reading?: Omit<GenerateReadingOptions, 'overThreshold'>;
  /**
   * Wait before a dropped client reconnects.
   * @defaultValue 1000
   */
  reconnectPeriodMs?: number;
  /**
   * Give up on a CONNACK after this long (the client then retries).
   * @defaultValue 10_000
   */
  connectTimeoutMs?: number;
  /**
   * How long `stop()` waits for in-flight messages to be acknowledged before closing the clients regardless.
   * @defaultValue 5000
   */
  stopTimeoutMs?: number;
  /**
   * How often `onProgress` is called; 0 turns it off.
   * @defaultValue 5000
   */
  progressIntervalMs?: number;
  /** Called every `progressIntervalMs` with the counts so far. */
  onProgress?: (progress: FleetProgress) => void;
  /**
   * Extra MQTT client options (credentials, TLS); the simulator's own (`clientId`, `clean`, timings) win.
   * @defaultValue {}
   */
  clientOptions?: IClientOptions;
  /**
   * Each device's token (device id → token, e.g. from `provisionFleet`): the device logs in with username = its id
   * and this password. A device without one connects without credentials (and a broker with a registry refuses it).
   * @defaultValue none
   */
  credentials?: ReadonlyMap<string, string>;
  /**
   * The clock readings are stamped with.
   * @defaultValue Date.now
   */
  clock?: () => number;
}

export interface FleetRun {
  /** The counts so far. */
  progress(): FleetProgress;
  /**
   * Stops publishing, waits up to `stopTimeoutMs` for in-flight acknowledgements, closes every client and
   * resolves with the final counts. Calling it again returns the same promise.
   */
  stop(): Promise<FleetProgress>;
}

interface SimulatedDevice {
  device: SimDevice;
  topic: string;
  rng: Rng;
  state: DeviceState;
  client: MqttClient;
  offsetMs: number;
  tick: number;
  pending: number;
  timer?: NodeJS.Timeout;
}

/** Closing a client that never answers must not hold `stop()` forever. */
const CLIENT_END_TIMEOUT_MS = 2000;

function checkOptions(o: Required<Omit<RunFleetOptions, 'onProgress' | 'credentials'>>): void {
  const problems: string[] = [];
  if (!(o.intervalMs > 0)) problems.push(`intervalMs must be > 0, got ${o.intervalMs}`);
  if (o.qos !== 0 && o.qos !== 1) problems.push(`qos must be 0 or 1, got ${String(o.qos)}`);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1)
    problems.push(`batchSize must be a whole number >= 1, got ${o.batchSize}`);
  for (const key of ['invalidRate', 'overThresholdRate'] as const) {
    if (!(o[key] >= 0 && o[key] <= 1)) problems.push(`${key} must be within 0..1, got ${o[key]}`);
  }
  if (problems.length > 0) throw new RangeError(`runFleet: ${problems.join('; ')}`);
}

/**
 * Connects one MQTT client per device (`clientId` = device id, clean session) and has each publish a planned
 * message every `intervalMs`, from a random start offset so the fleet does not fire in lockstep.
 */
export function runFleet(options: RunFleetOptions): FleetRun {
  const o = {
    intervalMs: 1000,
    qos: 1 as const,
    batchSize: 1,
    invalidRate: 0,
    overThresholdRate: 0,
    seed: 1,
    reading: {},
    reconnectPeriodMs: 1000,
    connectTimeoutMs: 10_000,
    stopTimeoutMs: 5000,
    progressIntervalMs: 5000,
    clientOptions: {},
    clock: Date.now,
    ...options,
  };
  checkOptions(o);
  const { clock, intervalMs, qos } = o;
  const counts = emptyFleetCounts();
  const startMs = clock();
  let stopped = false;
  let stopping: Promise<FleetProgress> | undefined;
  let lastConnectionError: string | undefined;
  let onDrained: (() => void) | undefined;
  let window = { atMs: startMs, sent: 0, acked: 0 };

  const sims: SimulatedDevice[] = o.devices.map((device) => {
    const rng = createRng(hashSeed(o.seed, device.deviceId));
    const token = options.credentials?.get(device.deviceId);
    const client = connect(o.url, {
      ...o.clientOptions,
      ...(token !== undefined ? { username: device.deviceId, password: token } : {}),
      clientId: device.deviceId,
      clean: true,
      reconnectPeriod: o.reconnectPeriodMs,
      connectTimeout: o.connectTimeoutMs,
    });
    client.on('error', (err) => {
      counts.connectionErrors++;
      lastConnectionError = `${device.deviceId}: ${err.message}`;
    });
    client.on('reconnect', () => counts.reconnects++);
    return {
      device,
      topic: telemetryTopic(device.family, device.deviceId),
      rng,
      state: {},
      client,
      offsetMs: Math.floor(rng() * intervalMs),
      tick: 0,
      pending: 0,
    };
  });

  function dueMs(sim: SimulatedDevice): number {
    return startMs + sim.offsetMs + sim.tick * intervalMs;
  }

  function schedule(sim: SimulatedDevice): void {
    sim.timer = setTimeout(() => fire(sim), Math.max(0, dueMs(sim) - clock()));
  }

  function fire(sim: SimulatedDevice): void {
    if (stopped) return;
    const nowMs = clock();
    const plan = planMessage(sim.device, sim.state, nowMs, sim.rng, o);
    sim.state = plan.state;
    counts.sent++;
    counts.readings += plan.readings;
    if (plan.invalid !== undefined) counts.invalid[plan.invalid]++;
    if (plan.overThreshold) counts.overThreshold++;
    counts.inFlight++;
    sim.pending++;
    sim.client.publish(sim.topic, plan.payload, { qos }, (err) => {
      sim.pending--;
      counts.inFlight--;
      if (err) counts.errors++;
      else if (qos === 1) counts.acked++;
      if (counts.inFlight === 0) onDrained?.();
    });
    sim.tick++;
    // Fallen a whole interval behind: skip the missed ticks rather than fire them in a burst.
    const behind = Math.floor((nowMs - dueMs(sim)) / intervalMs);
    if (behind > 0) {
      sim.tick += behind;
      counts.skippedTicks += behind;
    }
    schedule(sim);
  }

  function progress(): FleetProgress {
    const nowMs = clock();
    const seconds = Math.max(1e-3, (nowMs - window.atMs) / 1000);
    const snapshot: FleetProgress = {
      ...counts,
      invalid: { ...counts.invalid },
      elapsedMs: nowMs - startMs,
      devices: sims.length,
      connected: sims.filter((s) => s.client.connected).length,
      sentPerS: Math.round(((counts.sent - window.sent) / seconds) * 10) / 10,
      ackedPerS: Math.round(((counts.acked - window.acked) / seconds) * 10) / 10,
    };
    if (lastConnectionError !== undefined) snapshot.lastConnectionError = lastConnectionError;
    return snapshot;
  }

  const progressTimer =
    o.progressIntervalMs > 0 && options.onProgress
      ? setInterval(() => {
          const p = progress();
          window = { atMs: clock(), sent: counts.sent, acked: counts.acked };
          options.onProgress?.(p);
        }, o.progressIntervalMs)
      : undefined;

  function drained(timeoutMs: number): Promise<void> {
    if (counts.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      onDrained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  function end(sim: SimulatedDevice): Promise<void> {
    // A graceful end sends DISCONNECT; a client with nothing to say to a broker it cannot reach is just dropped.
    const force = sim.pending > 0 || !sim.client.connected;
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, CLIENT_END_TIMEOUT_MS);
      sim.client.end(force, {}, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async function stop(): Promise<FleetProgress> {
    stopped = true;
    clearInterval(progressTimer);
    for (const sim of sims) clearTimeout(sim.timer);
    await drained(o.stopTimeoutMs);
    onDrained = undefined;
    await Promise.all(sims.map(end));
    window = { atMs: startMs, sent: 0, acked: 0 }; // the final report's rates cover the whole run
    return progress();
  }

  for (const sim of sims) schedule(sim);
  return {
    progress,
    stop: () => (stopping ??= stop()),
  };
}
