import type { AlertRule } from '@city/schema';
import type { ResolvedEpisode, ScenarioDevice } from '@city/simulator';

/** An alert the run must raise: this rule, on this device, because of that episode or fault. */
export interface ExpectedAlert {
  rule: string;
  device: string;
  because: string;
}

/** An expectation the run could not check, and why (too short, an unknown rule…). */
export interface UncheckedExpectation {
  because: string;
  rule: string;
  devices: number;
  why: string;
}

export interface ExpectAlertsInput {
  devices: readonly ScenarioDevice[];
  episodes: readonly ResolvedEpisode[];
  /** Device id → the episodes it is in. */
  memberships: ReadonlyMap<string, readonly ResolvedEpisode[]>;
  rules: readonly AlertRule[];
  /** The simulated time the run covered. */
  simStartMs: number;
  simEndMs: number;
  /** Simulated ms per real ms (the acceleration; 1 in live time); undefined in closed-loop runs. */
  speed: number | undefined;
  /** The interval each device's family was registered with (deadman rules use it), ms of real time. */
  registeredIntervalMs: (device: ScenarioDevice) => number;
  sweepIntervalMs: number;
  /** Silent devices: from and until (real ms since the start; until undefined = the end), and the run's length. */
  silent: { fromMs: number; untilMs: number | undefined } | undefined;
  runMs: number;
  /**
   * Devices left out of every expectation, with why: a stored clock-skewed reading can hold a device's alert
   * watermark hours ahead (its later readings are then stale to the engine).
   */
  leftOut?: { devices: ReadonlySet<string>; why: string };
}

/** How long a deadman rule needs a device silent, in real ms, before its sweep surely raises the alert. */
export function deadmanNeedsMs(rule: Extract<AlertRule, { kind: 'deadman' }>, registeredIntervalMs: number, sweepIntervalMs: number): number {
  return rule.factor * registeredIntervalMs + 2 * sweepIntervalMs + 2000;
}

/**
 * The alerts a run's episodes and silent devices must raise, and the expectations it cannot check. An episode's
 * `expectAlerts` apply to every device in it whose sensor is sound (not frozen, drifting or silenced on purpose),
 * once the run's simulated time reached `expectWithin` past the episode's start (or the run's, if it began inside
 * the episode). A deadman rule also needs the silence to last long enough in real time. Pure.
 */
export function expectAlerts(input: ExpectAlertsInput): { expected: ExpectedAlert[]; unchecked: UncheckedExpectation[] } {
  const expected: ExpectedAlert[] = [];
  const unchecked: UncheckedExpectation[] = [];
  const rules = new Map(input.rules.map((r) => [r.id, r]));
  const sound = (d: ScenarioDevice) => d.stuckFromReading === undefined && !d.drifting && !d.silent && input.leftOut?.devices.has(d.deviceId) !== true;

  for (const episode of input.episodes) {
    const because = `episode ${episode.index} (${episode.kind})`;
    const inIt = input.devices.filter((d) => input.memberships.get(d.deviceId)?.includes(episode) === true);
    const members = inIt.filter(sound);
    for (const ruleId of episode.expectAlerts) {
      const rule0 = rules.get(ruleId);
      const leftOut = inIt.filter((d) => input.leftOut?.devices.has(d.deviceId) === true && (rule0 === undefined || d.family === rule0.family));
      if (leftOut.length > 0 && input.leftOut) unchecked.push({ because, rule: ruleId, devices: leftOut.length, why: input.leftOut.why });
      const rule = rules.get(ruleId);
      const targets = members.filter((d) => rule === undefined || d.family === rule.family);
      if (rule === undefined) {
        unchecked.push({ because, rule: ruleId, devices: members.length, why: 'no such rule in the rules file' });
        continue;
      }
      if (targets.length === 0) {
        unchecked.push({ because, rule: ruleId, devices: 0, why: `no sound ${rule.family} device is in the episode` });
        continue;
      }
      const checkpoint = Math.max(episode.fromMs, input.simStartMs) + episode.expectWithin;
      if (input.simStartMs >= episode.toMs || input.simEndMs < checkpoint) {
        unchecked.push({ because, rule: ruleId, devices: targets.length, why: `the run's simulated time (${iso(input.simStartMs)} – ${iso(input.simEndMs)}) does not reach ${iso(checkpoint)}` });
        continue;
      }
      if (rule.kind === 'deadman') {
        const overlapSimMs = Math.min(episode.toMs, input.simEndMs) - Math.max(episode.fromMs, input.simStartMs);
        const realMs = input.speed === undefined ? 0 : overlapSimMs / input.speed;
        const needMs = deadmanNeedsMs(rule, input.registeredIntervalMs(targets[0]!), input.sweepIntervalMs);
        if (realMs < needMs) {
          unchecked.push({ because, rule: ruleId, devices: targets.length, why: `dark for ${Math.round(realMs / 1000)} s of real time; the rule needs ${Math.round(needMs / 1000)} s` });
          continue;
        }
      }
      for (const d of targets) expected.push({ rule: ruleId, device: d.deviceId, because });
    }
  }

  if (input.silent !== undefined) {
    const silent = input.devices.filter((d) => d.silent);
    const silentMs = (input.silent.untilMs ?? input.runMs) - input.silent.fromMs;
    for (const rule of input.rules) {
      if (rule.kind !== 'deadman') continue;
      const targets = silent.filter((d) => d.family === rule.family);
      if (targets.length === 0) continue;
      const needMs = deadmanNeedsMs(rule, input.registeredIntervalMs(targets[0]!), input.sweepIntervalMs);
      if (silentMs < needMs) {
        unchecked.push({ because: 'silent devices', rule: rule.id, devices: targets.length, why: `silent for ${Math.round(silentMs / 1000)} s; the rule needs ${Math.round(needMs / 1000)} s` });
        continue;
      }
      for (const d of targets) expected.push({ rule: rule.id, device: d.deviceId, because: 'silent devices' });
    }
  }
  return { expected, unchecked };
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
