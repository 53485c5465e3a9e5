export {
  ALMATY_DISTRICTS,
  FAMILY_ID_PREFIXES,
  buildFleet,
  type BuildFleetOptions,
  type SimDevice,
} from './build-fleet.ts';
export { KZ_UTC_OFFSET_MINUTES } from './city-time.ts';
export { emptyFleetCounts, type FleetCounts } from './fleet-counts.ts';
export {
  INVALID_REASONS,
  READING_LEVEL_REASONS,
  generateInvalid,
  type GenerateInvalidOptions,
  type InvalidPayload,
  type InvalidReason,
} from './generate-invalid.ts';
export {
  generateReading,
  type DeviceState,
  type GenerateReadingOptions,
  type GeneratedReading,
  type SimReading,
  type TimestampFormat,
} from './generate-reading.ts';
export { OVER_THRESHOLD_SAMPLES, type ThresholdSample } from './over-threshold-samples.ts';
export { planMessage, type PlanMessageOptions, type PlannedMessage } from './plan-message.ts';
export { createRng, hashSeed, type Rng } from './random.ts';
export { runFleet, type FleetProgress, type FleetRun, type RunFleetOptions } from './run-fleet.ts';
export { provisionFleet, type ProvisionedFleet } from './provision-fleet.ts';
