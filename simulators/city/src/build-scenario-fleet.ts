import { FAMILIES } from '@city/schema';
import { buildFleet, type SimDevice } from './build-fleet.ts';
import { createRng, hashSeed, randomInt } from './random.ts';
import type { Scenario } from './scenario-schema.ts';

/** A device of a scenario's fleet, with its reporting schedule and the troubles the seed gave it. */
export interface ScenarioDevice extends SimDevice {
  /** Simulated time between two of its readings. */
  intervalMs: number;
  readingsPerMessage: number;
  /** Where in its interval the device reports (simulated ms), so the fleet does not report in lockstep. */
  phaseMs: number;
  /** From this reading on (counted from 0) its sensor is frozen; absent, it never sticks. */
  stuckFromReading?: number;
  /** Its sensor drifts away from the truth, from its first reading on. */
  drifting: boolean;
  /** Its first CONNECT carries a wrong token. */
  wrongCredentials: boolean;
  /** It goes silent for a while (`faults.silentDevices`). */
  silent: boolean;
}

/**
 * The scenario's devices, family by family (ids as `buildFleet` makes them), each with its schedule and the
 * device-level faults its share picked for it. Deterministic: the same scenario and seed give the same fleet.
 */
export function buildScenarioFleet(scenario: Pick<Scenario, 'devices' | 'districts' | 'seed' | 'faults'>): ScenarioDevice[] {
  const { faults, seed } = scenario;
  const fleet: ScenarioDevice[] = [];
  for (const family of FAMILIES) {
    const group = scenario.devices[family];
    if (group === undefined || group.count === 0) continue;
    for (const device of buildFleet({ devicesPerFamily: group.count, families: [family], districts: scenario.districts, seed })) {
      const rng = createRng(hashSeed(seed, `traits:${device.deviceId}`));
      const stuck = rng() < faults.stuckSensors;
      fleet.push({
        ...device,
        intervalMs: group.interval,
        readingsPerMessage: group.readingsPerMessage,
        // Spread over a whole message period, so batching devices do not all report in the same instant.
        phaseMs: Math.floor(rng() * group.interval * group.readingsPerMessage),
        ...(stuck ? { stuckFromReading: randomInt(rng, 2, 30) } : {}),
        drifting: rng() < faults.driftingSensors,
        wrongCredentials: rng() < faults.wrongCredentials,
        silent: rng() < (faults.silentDevices?.share ?? 0),
      });
    }
  }
  return fleet;
}

/** Readings per simulated second of the whole fleet: the rate at acceleration 1. */
export function fleetReadingsPerSimSecond(devices: readonly Pick<ScenarioDevice, 'intervalMs'>[]): number {
  return devices.reduce((sum, d) => sum + 1000 / d.intervalMs, 0);
}
