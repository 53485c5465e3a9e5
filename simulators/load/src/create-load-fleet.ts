import { randomBytes } from 'node:crypto';
import type { EventTimeWindow } from '@city/core';
import { telemetryTopic } from '@city/schema';
import {
  conditionsAt,
  createRng,
  hashSeed,
  initialScenarioDeviceState,
  planScenarioMessage,
  type Faults,
  type ResolvedEpisode,
  type ScenarioDevice,
  type ScenarioDeviceState,
} from '@city/simulator';
import { DeviceConnection, type ConnectionHandler, type InFlight } from './device-connection.ts';
import { bump, emptyLedger, newSecond, type FleetLedger, type FleetSecond, type MessageMeta } from './fleet-ledger.ts';
import { MinHeap } from './min-heap.ts';
import type { RateProfile } from './rate-profile.ts';

export interface MarkerSent {
  deviceId: string;
  family: ScenarioDevice['family'];
  /** Event time of the newest reading of the message: the point to look for. */
  ts: number;
  /** Wall clock at the publish. */
  sentAtMs: number;
}

export interface LoadFleetOptions {
  host: string;
  port: number;
  devices: readonly ScenarioDevice[];
  /** Device id → token (from the registry). */
  tokens: ReadonlyMap<string, string>;
  /** Source addresses the devices are spread over, round robin (loopback aliases); empty: the system's choice. */
  localAddresses: readonly string[];
  qos: 0 | 1;
  inFlightWindow: number;
  /** The target rate; `max`: every device publishes as fast as its in-flight window lets it (closed loop). */
  rate: RateProfile | 'max';
  /** Readings per simulated second at acceleration 1: maps the rate's work onto the devices' schedules. */
  readingsPerSimSecond: number;
  durationMs: number;
  /**
   * `live`: event times are the wall clock (the rate scales how often devices report). `replay`: event times are
   * simulated, from `simStartMs`, advancing as the rate's work does.
   */
  time: { mode: 'live' | 'replay'; simStartMs: number };
  seed: number;
  utcOffsetMinutes: number;
  climateOffsetC: number;
  /** Episodes each device is in, by device id. */
  episodes: ReadonlyMap<string, readonly ResolvedEpisode[]>;
  faults: Faults;
  /** The broker's event-time window and payload limit, to label what it will make of each reading. */
  eventTimeWindow: EventTimeWindow;
  maxPayloadBytes: number;
  /** Devices whose messages are tracked to the database (clean, never faulty). */
  markers: ReadonlySet<string>;
  onMarker?: (marker: MarkerSent) => void;
  /** @defaultValue 2000 */
  connectsPerSecond?: number;
  /** @defaultValue 60 */
  keepaliveS?: number;
}

export interface LoadFleet {
  readonly ledger: FleetLedger;
  readonly timeline: FleetSecond[];
  /** Connects every device, paced; resolves once all are connected or `timeoutMs` passed (with the count). */
  connectAll(timeoutMs: number): Promise<{ connected: number; devices: number }>;
  /** Runs the schedule for `durationMs`; resolves when the last message is published (not yet acknowledged). */
  run(): Promise<void>;
  /** Waits up to `timeoutMs` for the acknowledgements in flight, then closes every connection. */
  stop(timeoutMs: number): Promise<void>;
  connectedCount(): number;
  inFlightCount(): number;
  /** Ms since the schedule started (0 before). */
  elapsedMs(): number;
  /** The simulated time now (live: the wall clock). */
  simNowMs(): number;
}

/** How long to wait before reconnecting after a close, by what closed it. */
function reconnectDelayMs(rc: number | undefined, dropped: boolean, rng: () => number): number {
  if (dropped) return rng() * 2000; // a storm: everyone comes back within two seconds
  if (rc === 3) return 1000 + rng() * 2000; // server unavailable (connect rate): back off
  return 500 + rng() * 1000;
}

/**
 * The simulated fleet on the wire: one MQTT connection per device, each with its own credentials and source address,
 * publishing its scenario's messages on schedule (or as fast as its window allows), and keeping the ledger the
 * outcome is checked against.
 */
export function createLoadFleet(o: LoadFleetOptions): LoadFleet {
  const n = o.devices.length;
  const ledger = emptyLedger(n);
  const timeline: FleetSecond[] = [];
  const rng = createRng(hashSeed(o.seed, 'fleet'));
  const topics = o.devices.map((d) => Buffer.from(telemetryTopic(d.family, d.deviceId)));
  const rngs = o.devices.map((d) => createRng(hashSeed(o.seed, `messages:${d.deviceId}`)));
  const states: ScenarioDeviceState[] = o.devices.map(() => initialScenarioDeviceState());
  const episodes = o.devices.map((d) => o.episodes.get(d.deviceId) ?? []);
  /** The device's next reading, counted from 0 on its grid. */
  const nextReading = new Float64Array(n);
  /** Work (readings of the whole fleet) at which each device's next message is due. */
  const dueWork = new Float64Array(n);
  const waiting = new Uint8Array(n);
  const lastTs = new Float64Array(n);
  const heap = new MinHeap(dueWork);
  const closedByUs = new Uint8Array(n);
  const lastRc = new Int16Array(n).fill(-1);
  const markers = o.devices.map((d) => o.markers.has(d.deviceId));
  const readingsPerWork = o.readingsPerSimSecond / 1000; // fleet readings per base-ms of a device's grid
  const silentFrom = o.faults.silentDevices?.after;
  const silentUntil = silentFrom !== undefined && o.faults.silentDevices?.for !== undefined ? silentFrom + o.faults.silentDevices.for : undefined;
  ledger.silent = { devices: o.devices.filter((d) => d.silent).length, fromMs: silentFrom ?? 0, untilMs: silentUntil };

  let phase: 'idle' | 'connecting' | 'running' | 'draining' | 'stopped' = 'idle';
  let t0 = 0;
  let wall0 = 0;
  let connected = 0;
  let inFlight = 0;
  let onDrained: (() => void) | undefined;
  let onRunEnd: (() => void) | undefined;
  let tickTimer: NodeJS.Timeout | undefined;
  let tickPending = false;
  const timers = new Set<NodeJS.Timeout>();

  const second = (): FleetSecond => {
    const s = Math.max(0, Math.floor((performance.now() - t0) / 1000));
    while (timeline.length <= s) {
      const at = timeline.length * 1000;
      timeline.push(newSecond(timeline.length, o.rate === 'max' ? undefined : o.rate.rateAt(at)));
    }
    return timeline[s]!;
  };

  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };

  const handler: ConnectionHandler<MessageMeta> = {
    onConnack(connection, rc) {
      bump(ledger.connections.connacks, String(rc));
      lastRc[connection.index] = rc;
      if (rc !== 0) return;
      connected++;
      ledger.messages.retransmitted += connection.inFlight.size;
      closedByUs[connection.index] = 0;
      if (phase === 'running') wake(connection.index);
    },
    onPuback(connection, message: InFlight<MessageMeta>, now) {
      const meta = message.meta;
      inFlight--;
      const latency = now - message.sentAt;
      ledger.puback.record(latency);
      ledger.messages.acked++;
      ledger.readings.acked += meta.readings;
      ledger.ackedStoredByDevice[meta.device]! += meta.stored;
      ledger.ackedPoints += meta.stored;
      ledger.ackedLate += meta.late;
      for (const reason of meta.rejects) bump(ledger.ackedRejects, reason);
      if (message.sends > 1) for (const reason of meta.rejects) bump(ledger.extraRejectsPossible, reason, message.sends - 1);
      if (meta.fault) bump(ledger.faults.acked, meta.fault);
      if (phase === 'running' || phase === 'draining') {
        const s = second();
        s.ackedMessages++;
        s.ackedReadings += meta.readings;
        s.puback.record(latency);
      }
      if (phase === 'running') wake(connection.index);
      if (inFlight === 0) onDrained?.();
    },
    onClose(connection, wasConnected, error) {
      const i = connection.index;
      if (wasConnected) connected--;
      if (error !== undefined) ledger.connections.lastError = `${connection.options.clientId}: ${error}`;
      if (phase === 'running') second().closes++;
      const dropped = closedByUs[i] === 1;
      if (wasConnected && !dropped && phase !== 'stopped') ledger.connections.unexpectedCloses++;
      if (phase === 'stopped') return;
      const rc = lastRc[i]! >= 0 ? lastRc[i]! : undefined;
      lastRc[i] = -1;
      later(reconnectDelayMs(rc, dropped, rng), () => {
        if (phase === 'stopped') return;
        connection.connect();
      });
    },
  };

  const connections = o.devices.map((device, i) => {
    const token = o.tokens.get(device.deviceId);
    const localAddress = o.localAddresses.length > 0 ? o.localAddresses[i % o.localAddresses.length] : undefined;
    const connection = new DeviceConnection<MessageMeta>(
      {
        host: o.host,
        port: o.port,
        ...(localAddress ? { localAddress } : {}),
        clientId: device.deviceId,
        username: device.deviceId,
        ...(token !== undefined ? { password: token } : {}),
        keepaliveS: o.keepaliveS ?? 60,
      },
      handler,
      i,
    );
    if (device.wrongCredentials) {
      // A token of the right shape that is not this device's: CONNACK 0x04; the retry has the right one.
      connection.nextPassword = randomBytes(32).toString('base64url');
      ledger.connections.wrongCredentialAttempts++;
    }
    return connection;
  });

  // --- schedule ------------------------------------------------------------------------------------------------

  /** Work at which reading `k` of device `i` is due: its phase on its grid, scaled to the fleet's readings. */
  const workOfReading = (i: number, k: number) => {
    const d = o.devices[i]!;
    return (d.phaseMs + k * d.intervalMs) * readingsPerWork;
  };
  const dueOf = (i: number) => workOfReading(i, nextReading[i]! + o.devices[i]!.readingsPerMessage - 1);

  /** Event times of the next message's readings. */
  function eventTimes(i: number, wallNow: number): number[] {
    const d = o.devices[i]!;
    const ts: number[] = [];
    for (let k = 0; k < d.readingsPerMessage; k++) {
      const reading = nextReading[i]! + k;
      let t: number;
      if (o.time.mode === 'replay') t = o.time.simStartMs + d.phaseMs + reading * d.intervalMs;
      else if (o.rate === 'max') t = wallNow;
      else t = Math.round(wall0 + o.rate.timeAtWork(workOfReading(i, reading)));
      // Strictly increasing per device: two readings never share a point.
      if (t <= lastTs[i]!) t = lastTs[i]! + 1;
      lastTs[i] = t;
      ts.push(t);
    }
    return ts;
  }

  const silentNow = (i: number, tMs: number) =>
    o.devices[i]!.silent && silentFrom !== undefined && tMs >= silentFrom && (silentUntil === undefined || tMs < silentUntil);

  /** Plans and publishes device i's next message. Returns false when it cannot send now. */
  function send(i: number, tMs: number): boolean {
    const connection = connections[i]!;
    const device = o.devices[i]!;
    const B = device.readingsPerMessage;
    if (silentNow(i, tMs)) {
      // Closed loop: nothing is due, so a silent device just waits (its clock must not race ahead meanwhile).
      if (o.rate === 'max') {
        later(250, () => wake(i));
        return false;
      }
      nextReading[i]! += B;
      ledger.readings.silenced += B;
      return true;
    }
    if (!connection.connected || (o.qos === 1 && connection.inFlight.size >= o.inFlightWindow)) return false;
    const wallNow = Date.now();
    if (o.rate === 'max' && o.time.mode === 'replay' && workOfReading(i, nextReading[i]! + B - 1) / readingsPerWork + o.time.simStartMs > wallNow - 1000) {
      // Never ahead of the wall clock (the broker would refuse readings from the future): try again shortly.
      later(250, () => wake(i));
      return false;
    }
    const ts = eventTimes(i, wallNow);
    nextReading[i]! += B;
    const planned = planScenarioMessage({
      device,
      state: states[i]!,
      ts,
      rng: rngs[i]!,
      conditionsAt: (t) => conditionsAt(t, episodes[i]!, o.climateOffsetC),
      wallNowMs: wallNow,
      eventTimeWindow: o.eventTimeWindow,
      maxPayloadBytes: o.maxPayloadBytes,
      utcOffsetMinutes: o.utcOffsetMinutes,
      ...(o.time.mode === 'replay' ? { grid: { originMs: o.time.simStartMs + device.phaseMs, stepMs: device.intervalMs } } : {}),
      ...(markers[i] ? {} : { faults: o.faults }),
    });
    states[i] = planned.state;
    ledger.readings.dark += planned.dark;
    const message = planned.message;
    if (!message) return true;
    ledger.messages.planned++;
    if (message.fault) bump(ledger.faults.injected, message.fault);
    if (message.fault === 'clockSkew' && message.rejects.length === 0) ledger.skewStoredDevices.add(i);
    const payload = Buffer.from(message.payload);
    const meta: MessageMeta = { device: i, readings: message.readings, stored: message.stored, late: message.late, rejects: message.rejects, fault: message.fault };
    publish(connection, i, payload, meta);
    // The copy adds no point (same event times) and no dead letter (only clean messages are duplicated).
    if (message.publishTwice) publish(connection, i, payload, { ...meta, stored: 0, late: 0, rejects: [], fault: undefined });
    if (markers[i]) o.onMarker?.({ deviceId: device.deviceId, family: device.family, ts: message.newestTs, sentAtMs: wallNow });
    return true;
  }

  function publish(connection: DeviceConnection<MessageMeta>, i: number, payload: Buffer, meta: MessageMeta): void {
    ledger.messages.published++;
    ledger.readings.sent += meta.readings;
    const s = second();
    s.sentMessages++;
    s.sentReadings += meta.readings;
    connection.publish(topics[i]!, payload, o.qos, meta);
    if (o.qos === 1) inFlight++;
    else {
      // QoS 0 is never acknowledged: what it should cause is only an upper bound.
      ledger.unackedStoredByDevice[i]! += meta.stored;
      ledger.unackedLate += meta.late;
      for (const reason of meta.rejects) bump(ledger.extraRejectsPossible, reason);
    }
  }

  /** A device that was waiting (window full, disconnected) may be able to send: put it back in line. */
  function wake(i: number): void {
    if (waiting[i] === 0) return;
    waiting[i] = 0;
    if (o.rate === 'max') ready.push(i);
    else heap.push(i);
    scheduleTick(0);
  }

  /** Devices that may send now (closed loop): a queue with a moving head, compacted now and then. */
  let ready: number[] = [];
  let readyHead = 0;
  const takeReady = (): number | undefined => {
    if (readyHead >= ready.length) return undefined;
    const i = ready[readyHead++];
    if (readyHead > 4096 && readyHead * 2 > ready.length) {
      ready = ready.slice(readyHead);
      readyHead = 0;
    }
    return i;
  };
  const TICK_BUDGET = 4000;

  function scheduleTick(delayMs: number): void {
    if (phase !== 'running') return;
    if (delayMs <= 0) {
      if (tickPending) return;
      tickPending = true;
      if (tickTimer) clearTimeout(tickTimer);
      tickTimer = undefined;
      setImmediate(tick);
      return;
    }
    if (tickPending || tickTimer) return;
    tickTimer = setTimeout(() => {
      tickTimer = undefined;
      tick();
    }, delayMs);
  }

  function tick(): void {
    tickPending = false;
    if (phase !== 'running') return;
    const tMs = performance.now() - t0;
    if (tMs >= o.durationMs) return finishRun();
    const s = second();
    s.connected = connected;
    let budget = TICK_BUDGET;
    if (o.rate === 'max') {
      for (let i = takeReady(); i !== undefined; i = budget > 0 ? takeReady() : undefined) {
        let sent = 0;
        while (budget > 0 && send(i, tMs)) {
          budget--;
          sent++;
          if (o.qos === 0 && sent >= 8) break;
        }
        if (o.qos === 0 && sent >= 8) ready.push(i);
        else waiting[i] = 1;
      }
      if (readyHead < ready.length) scheduleTick(0);
      else scheduleTick(5);
      return;
    }
    const rate = o.rate;
    const work = rate.workAt(tMs);
    for (;;) {
      const i = heap.peek();
      if (i === undefined || dueWork[i]! > work || budget <= 0) break;
      heap.pop();
      const lagMs = tMs - rate.timeAtWork(dueWork[i]!);
      if (send(i, tMs)) {
        budget--;
        ledger.lag.record(Math.max(0, lagMs));
        if (lagMs > s.maxLagMs) s.maxLagMs = lagMs;
        dueWork[i] = dueOf(i);
        heap.push(i);
      } else {
        waiting[i] = 1;
      }
    }
    const next = heap.peek();
    if (budget <= 0 || (next !== undefined && dueWork[next]! <= work)) scheduleTick(0);
    else scheduleTick(next === undefined ? 20 : Math.min(20, Math.max(1, rate.timeAtWork(dueWork[next]!) - tMs)));
  }

  function finishRun(): void {
    phase = 'draining';
    if (tickTimer) clearTimeout(tickTimer);
    onRunEnd?.();
  }

  // --- faults in run time --------------------------------------------------------------------------------------

  function storm(): void {
    if (phase !== 'running') return;
    const share = o.faults.reconnectStorms?.share ?? 0;
    ledger.connections.storms++;
    for (const connection of connections) {
      if (connection.connected && rng() < share) {
        closedByUs[connection.index] = 1;
        ledger.connections.stormDrops++;
        connection.drop();
      }
    }
  }

  function keepalive(): void {
    const idleMs = ((o.keepaliveS ?? 60) * 1000) / 2;
    const now = performance.now();
    for (const connection of connections) if (connection.connected && now - connection.lastSentAt > idleMs) connection.ping();
  }

  return {
    ledger,
    timeline,
    connectedCount: () => connected,
    inFlightCount: () => inFlight,
    elapsedMs: () => (t0 === 0 ? 0 : performance.now() - t0),
    simNowMs() {
      if (o.time.mode === 'live' || t0 === 0) return o.time.mode === 'live' ? Date.now() : o.time.simStartMs;
      if (o.rate === 'max') return o.time.simStartMs;
      return o.time.simStartMs + o.rate.workAt(performance.now() - t0) / readingsPerWork;
    },

    connectAll(timeoutMs) {
      phase = 'connecting';
      const perTick = Math.max(1, Math.round((o.connectsPerSecond ?? 2000) / 100));
      let next = 0;
      return new Promise((resolve) => {
        const deadline = performance.now() + timeoutMs;
        const pace = setInterval(() => {
          for (let k = 0; k < perTick && next < n; k++) connections[next++]!.connect();
          if ((next >= n && connected >= n) || performance.now() > deadline) {
            clearInterval(pace);
            resolve({ connected, devices: n });
          }
        }, 10);
      });
    },

    run() {
      phase = 'running';
      t0 = performance.now();
      wall0 = Date.now();
      for (let i = 0; i < n; i++) {
        if (o.rate === 'max') ready.push(i);
        else {
          dueWork[i] = dueOf(i);
          heap.push(i);
        }
      }
      const stormEvery = o.faults.reconnectStorms?.every;
      const stormTimer = stormEvery !== undefined && (o.faults.reconnectStorms?.share ?? 0) > 0 ? setInterval(storm, stormEvery) : undefined;
      const pingTimer = setInterval(keepalive, 5000);
      scheduleTick(0);
      return new Promise<void>((resolve) => {
        onRunEnd = () => {
          clearInterval(stormTimer);
          clearInterval(pingTimer);
          resolve();
        };
      });
    },

    async stop(timeoutMs) {
      if (phase === 'stopped') return;
      if (phase === 'running') finishRun();
      if (inFlight > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeoutMs);
          onDrained = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      onDrained = undefined;
      phase = 'stopped';
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      // What is still in flight is unknown: bound the outcome with it, do not owe it.
      for (const connection of connections) {
        for (const message of connection.inFlight.values()) {
          const meta = message.meta;
          ledger.messages.unackedAtEnd++;
          ledger.unackedStoredByDevice[meta.device]! += meta.stored;
          ledger.unackedLate += meta.late;
          for (const reason of meta.rejects) bump(ledger.extraRejectsPossible, reason, message.sends);
        }
      }
      await Promise.all(connections.map((c) => c.end()));
    },
  };
}
