import type { ReasonCode } from './reason-codes.ts';

/**
 * When each reason code is given, for docs/contract.md. Kept apart from the append-only list so adding a code and
 * explaining it are separate edits; a code without an entry shows as undocumented in the reference.
 */
export const REASON_DESCRIPTIONS: Partial<Record<ReasonCode, string>> = {
  unknown_topic: 'the topic does not follow the grammar `city/v1/{family}/{deviceId}/telemetry`',
  unknown_family: 'the topic names a family that does not exist',
  invalid_device_id: 'the topic’s device id has characters other than letters, digits, `.`, `_`, `-`, or is over 64',
  payload_too_large: 'the payload is over the size limit (`MAX_PAYLOAD_BYTES`)',
  invalid_json: 'the payload is not UTF-8 JSON',
  empty_batch: 'a batch array or SenML pack with no reading',
  batch_too_large: 'more readings (or SenML records) than `MAX_READINGS_PER_MESSAGE`',
  invalid_type: 'a value of the wrong type (a string for a number, a number for a boolean, a fraction for a count)',
  unknown_field: 'a field, or SenML name, the family does not have (a typo such as `pm2_5`)',
  no_metrics: 'a reading with no metric at all',
  out_of_range: 'a value outside its metric’s physical range (`occupancy` 1.7, `pm25` −3, humidity 71 instead of 0.71)',
  invalid_timestamp: '`ts` not epoch ms or ISO 8601 with a zone, outside 2000–2100 (seconds are caught here), or missing in a batch array',
  timestamp_in_future: 'the event time is later than the receive time by more than `EVENT_TIME_MAX_FUTURE_MS`',
  timestamp_too_old: 'the event time is earlier than the receive time by more than `EVENT_TIME_MAX_AGE_MS`',
  unsupported_unit: 'a SenML unit that cannot be converted to the metric’s unit (the detail names both, and what is accepted)',
  inconsistent_metrics: 'metrics of one reading that cannot all be true (`pm25` above `pm10`, more spaces occupied than exist)',
  invalid_senml: 'a SenML pack that breaks RFC 8428 (a record without a name or value, a label of the wrong type, an unknown `…_` label, `bver` above 10), or names one metric twice at one time',
  storage_rejected: 'valid by the contract, but the database refused the point (InfluxDB 400: a field type conflict, a line it cannot parse); the detail is the server’s reason. Given by the worker after the PUBACK, so the device is not told; replayable once the database is fixed',
};
