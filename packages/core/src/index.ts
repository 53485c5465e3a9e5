export { DEFAULT_INGEST_LIMITS, ingestPayload, type IngestInput, type IngestLimits, type IngestOutcome } from './ingest-payload.ts';
export { toLineProtocol } from './to-line-protocol.ts';
export { acceptedUnits, convertUnit, type UnitConversion } from './convert-unit.ts';
export { DEFAULT_EVENT_TIME_WINDOW, judgeEventTime, type EventTimeVerdict, type EventTimeWindow } from './judge-event-time.ts';
export { SENML_LABELS, SENML_VERSION, looksLikeSenml, resolveSenml, type SenmlRecord, type SenmlResolution } from './resolve-senml.ts';
export { metricOfSenmlName, senmlToCandidates, type SenmlCandidate } from './senml-to-candidates.ts';
export { deadLetterEntry, deadLetterPayload } from './dead-letter-entry.ts';
export {
  deadLetterDevice,
  matchesDeadLetter,
  summarizeDeadLetters,
  type DeadLetterFilter,
  type DeadLetterSummary,
} from './select-dead-letters.ts';
export { AQI_CATEGORIES, computeAqi, type AqiCategory, type AqiInputs, type AqiResult } from './alerts/epa-aqi.ts';
export { ruleSelects, sampleOf, type DeviceInfo, type Sample } from './alerts/select-reading.ts';
export { foldSample, initialCondition, levelOf, thresholdOf, type Bucket, type Condition } from './alerts/fold-sample.ts';
export { adoptRule, initialAlertState, ruleHash, type AlertState, type OpenAlert } from './alerts/alert-state.ts';
export { buildAlertEvent, type EventFacts } from './alerts/build-alert-event.ts';
export { reconcileAlert, type AlertTarget, type EventContext } from './alerts/reconcile-alert.ts';
export { stepAlert, thresholdTarget, type StepContext, type StepOptions, type StepOutcome, type StepResult } from './alerts/step-alert.ts';
export { deadmanDeadline, expectedIntervalMs, tickDeadman } from './alerts/tick-deadman.ts';
export { acknowledgeAlert, resolveAlert, type OperatorAction, type OperatorOutcome } from './alerts/operator-actions.ts';
export { isSilenced } from './alerts/is-silenced.ts';
export { alertEventToLine } from './alerts/alert-event-line.ts';
export {
  MQTT_RULES,
  checkConnect,
  checkMqttString,
  checkPublish,
  checkTopicFilter,
  isSupportedProtocolLevel,
  type ConnectFields,
  type MqttRule,
  type MqttViolation,
  type PublishFields,
} from './mqtt-rules.ts';
export {
  ACCESS_DENIED_REASONS,
  OPERATOR_ROLES,
  canPublish,
  canSubscribe,
  deviceTopic,
  type AccessDecision,
  type AccessDeniedReason,
  type DeviceChannel,
  type OperatorRole,
  type Principal,
} from './access-policy.ts';
export {
  INITIAL_RETRY_WAIT,
  backoffDelayMs,
  checkBackoffPolicy,
  minimumBackoffTotalMs,
  nextRetryWait,
  type BackoffPolicy,
  type RetryWaitInput,
  type RetryWaitState,
} from './backoff.ts';
export {
  RELEASED,
  checkBackpressureMarks,
  memoryRatio,
  stepBackpressure,
  type BackpressureEvent,
  type BackpressureMarks,
  type BackpressureReason,
  type BackpressureSample,
  type BackpressureState,
} from './backpressure.ts';
export {
  HEALTHY,
  pipelineStatusTopic,
  stepPipelineHealth,
  type PipelineHealthInput,
  type PipelineHealthOptions,
  type PipelineHealthState,
  type PipelineStatusEvent,
} from './pipeline-health.ts';
