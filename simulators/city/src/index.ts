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
export { ALWAYS_SENT_METRIC, OVER_THRESHOLD_SAMPLES, type ThresholdSample } from './over-threshold-samples.ts';
export { planMessage, type PlanMessageOptions, type PlannedMessage } from './plan-message.ts';
export { createRng, hashSeed, type Rng } from './random.ts';
export { runFleet, type FleetProgress, type FleetRun, type RunFleetOptions } from './run-fleet.ts';
export { provisionFleet, type ProvisionedFleet } from './provision-fleet.ts';
export { NORMAL_CONDITIONS, type Conditions } from './conditions.ts';
export { buildScenarioFleet, fleetReadingsPerSimSecond, type ScenarioDevice } from './build-scenario-fleet.ts';
export { conditionsAt, episodeMemberships, episodeShape, inEpisode, resolveEpisodes, type ResolvedEpisode } from './episode-conditions.ts';
export { parseScenario, type ParsedScenario } from './parse-scenario.ts';
export {
  EPISODE_FAMILIES,
  EpisodeSchema,
  FaultsSchema,
  ScenarioSchema,
  parseDurationMs,
  type DeviceGroup,
  type Episode,
  type EpisodeKind,
  type Faults,
  type Scenario,
  type ScenarioStart,
  type SimInstant,
} from './scenario-schema.ts';
export {
  MESSAGE_FAULTS,
  initialScenarioDeviceState,
  planScenarioMessage,
  type MessageFault,
  type PlanScenarioMessageInput,
  type PlannedScenarioMessage,
  type ScenarioDeviceState,
  type ScenarioMessage,
} from './plan-scenario-message.ts';
export { DRIFT, applySensorTrouble, type SensorTroubleState } from './sensor-trouble.ts';
