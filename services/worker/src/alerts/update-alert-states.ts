import type { Queue } from 'bullmq';
import { initialAlertState, isSilenced, type AlertState, type DeviceInfo } from '@city/core';
import type { AlertEvent, AlertRule, Silence } from '@city/schema';
import type { AlertStore } from './alert-store.ts';
import { enqueueAlertEvents } from './enqueue-alert-events.ts';

/** One (rule, device) to advance with a pure function of its state. */
export interface StateUpdate {
  rule: AlertRule;
  device: string;
  district?: string;
  apply: (state: AlertState, context: { silenced: boolean; device?: DeviceInfo }) => { state: AlertState; events: AlertEvent[] };
}

export interface UpdateContext {
  store: AlertStore;
  alertsQueue: Queue;
  silences: readonly Silence[];
  devices?: ReadonlyMap<string, DeviceInfo>;
  now: number;
  /** Also enqueue each loaded state's outbox (a retried batch). */
  replayOutbox?: boolean;
  /** @defaultValue 16 */
  maxRounds?: number;
}

export class AlertContentionError extends Error {
  override readonly name = 'AlertContentionError';
}

const OUTBOX_MAX = 16;

/**
 * Load → pure step → compare-and-set, in rounds: a write that lost a race is recomputed from the state that won.
 * The events of committed writes are enqueued for delivery (even when some pairs stay contended, which then
 * throws so the caller's job is retried). Resolves with the new events (not the replayed outboxes) and the number
 * of lost races.
 */
export async function updateAlertStates(updates: readonly StateUpdate[], context: UpdateContext): Promise<{ events: AlertEvent[]; conflicts: number }> {
  const { store, alertsQueue, silences, devices, now, maxRounds = 16 } = context;
  const events: AlertEvent[] = [];
  const replayed: AlertEvent[] = [];
  let conflicts = 0;
  let pending = [...updates];
  for (let round = 0; round < maxRounds && pending.length > 0; round++) {
    const loaded = await store.load(pending.map((u) => ({ rule: u.rule.id, device: u.device })));
    const writes: Array<{ update: StateUpdate; version: string; state: AlertState; json: string; events: AlertEvent[] }> = [];
    pending.forEach((update, i) => {
      const { version, state: stored, json: storedJson } = loaded[i]!;
      const before = stored ?? initialAlertState(update.rule, update.device);
      if (context.replayOutbox && round === 0) replayed.push(...before.outbox);
      const device = devices?.get(update.device);
      const district = device?.district ?? update.district ?? before.district;
      const result = update.apply(before, { silenced: isSilenced(silences, update.rule.id, update.device, district, now), ...(device ? { device } : {}) });
      const state = result.events.length > 0 ? { ...result.state, outbox: result.events.slice(-OUTBOX_MAX) } : result.state;
      const json = JSON.stringify(state);
      if (json !== storedJson) writes.push({ update, version, state, json, events: result.events });
    });
    const committed = await store.commit(writes);
    pending = [];
    writes.forEach((write, i) => {
      if (committed[i]) events.push(...write.events);
      else pending.push(write.update);
    });
    conflicts += pending.length;
  }
  await enqueueAlertEvents(alertsQueue, [...replayed, ...events]);
  if (pending.length > 0) throw new AlertContentionError(`alert state of ${pending.length} (rule, device) pairs still contended after ${maxRounds} rounds`);
  return { events, conflicts };
}
