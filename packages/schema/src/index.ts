export { FAMILIES, FAMILY_SPECS, FamilySchema, isFamily, type Family, type FamilySpec, type MetricSpec } from './families.ts';
export {
  ALERT_TOPIC_ROOT,
  DEVICE_ID_PATTERN,
  TOPIC_ROOT,
  alertTopic,
  parseTopic,
  telemetryTopic,
  type ParsedTopic,
} from './topic.ts';
export { REASON_CODES, type ReasonCode } from './reason-codes.ts';
export {
  DEVICE_READING_SCHEMAS,
  DistrictSchema,
  EventTimeSchema,
  MAX_EVENT_TIME_MS,
  MIN_EVENT_TIME_MS,
  type DeviceReading,
} from './device-payload.ts';
export { ReadingSchema, TelemetryBatchSchema, type Reading, type TelemetryBatch } from './reading.ts';
export { DEAD_LETTER_PAYLOAD_MAX_BYTES, DeadLetterEntrySchema, type DeadLetterEntry } from './dead-letter.ts';
export {
  AlertEventSchema,
  AlertRuleSchema,
  AlertRulesFileSchema,
  SEVERITIES,
  type AlertEvent,
  type AlertRule,
  type Severity,
} from './alert.ts';
