import type { SimDevice } from './build-fleet.ts';
import { NORMAL_CONDITIONS, type Conditions } from './conditions.ts';
import { createRng, hashSeed } from './random.ts';
import { EPISODE_FAMILIES, type Episode, type Scenario, type SimInstant } from './scenario-schema.ts';

/** An episode placed on the simulated timeline: `[fromMs, toMs)`. */
export type ResolvedEpisode = Episode & { index: number; fromMs: number; toMs: number };

function instantMs(instant: SimInstant, simStartMs: number): number {
  return instant.kind === 'absolute' ? instant.ms : simStartMs + instant.ms;
}

/** The scenario's episodes with absolute simulated times, once the run's start is known. */
export function resolveEpisodes(episodes: readonly Episode[], simStartMs: number): ResolvedEpisode[] {
  return episodes.map((episode, index) => {
    const fromMs = instantMs(episode.from, simStartMs);
    return { ...episode, index, fromMs, toMs: fromMs + episode.duration };
  });
}

/**
 * Whether a device is in an episode: its family is one the episode acts on, it stands in one of the episode's
 * districts, and the seed picked it among the episode's `share` of those devices (the same devices every run).
 */
export function inEpisode(device: SimDevice, episode: Pick<ResolvedEpisode, 'kind' | 'districts' | 'share' | 'index'>, seed: number): boolean {
  if (!EPISODE_FAMILIES[episode.kind].includes(device.family)) return false;
  if (episode.districts !== undefined && !episode.districts.includes(device.district)) return false;
  return episode.share >= 1 || createRng(hashSeed(seed, `episode:${episode.index}:${device.deviceId}`))() < episode.share;
}

/** 0 outside the episode, rising linearly to 1 over `rampMs` after it starts and falling to 0 over its last `rampMs`. */
export function episodeShape(ts: number, fromMs: number, toMs: number, rampMs: number): number {
  if (ts < fromMs || ts >= toMs) return 0;
  if (rampMs <= 0) return 1;
  return Math.max(0, Math.min(1, (ts - fromMs) / rampMs, (toMs - ts) / rampMs));
}

/**
 * What a device lives through at `ts`, given the episodes it is in: the climate always, each episode only within its
 * window. Smog builds up over its `rise` and clears over the same; a cold snap sets in and lifts over a fifth of its
 * length; the others switch on and off. Pure.
 */
export function conditionsAt(ts: number, episodes: readonly ResolvedEpisode[], climateOffsetC: number): Conditions {
  if (episodes.length === 0 && climateOffsetC === 0) return NORMAL_CONDITIONS;
  const c: Conditions = { ...NORMAL_CONDITIONS, temperatureOffsetC: climateOffsetC };
  for (const e of episodes) {
    if (ts < e.fromMs || ts >= e.toMs) continue;
    switch (e.kind) {
      case 'smog': {
        const level = e.pm25Peak * episodeShape(ts, e.fromMs, e.toMs, Math.min(e.rise, e.duration / 2));
        c.smogPm25 = Math.max(c.smogPm25, level);
        c.inversion = true;
        break;
      }
      case 'cold-snap':
        c.temperatureOffsetC -= e.temperatureDropC * episodeShape(ts, e.fromMs, e.toMs, e.duration / 5);
        break;
      case 'traffic-jam':
        c.jam = true;
        break;
      case 'water-leak':
        c.leakLph += e.leakLph;
        c.pressureDropBar += e.pressureDropBar;
        break;
      case 'voltage-sag':
        c.sagVoltageV = c.sagVoltageV > 0 ? Math.min(c.sagVoltageV, e.voltageV) : e.voltageV;
        break;
      case 'power-outage':
        c.powerOut = true;
        break;
      case 'heating-failure':
        c.supplyDropK += e.supplyDropK;
        break;
    }
  }
  return c;
}

/** The episodes of a scenario each device is in, by device id (devices in none are absent). */
export function episodeMemberships(
  devices: readonly SimDevice[],
  episodes: readonly ResolvedEpisode[],
  scenario: Pick<Scenario, 'seed'>,
): Map<string, ResolvedEpisode[]> {
  const byDevice = new Map<string, ResolvedEpisode[]>();
  for (const device of devices) {
    const mine = episodes.filter((e) => inEpisode(device, e, scenario.seed));
    if (mine.length > 0) byDevice.set(device.deviceId, mine);
  }
  return byDevice;
}
