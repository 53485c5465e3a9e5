/**
 * Why a payload (or one reading of a batch) was rejected. Devices and dashboards key on these codes,
 * so they are append-only: never rename or reuse one.
 */
export const REASON_CODES = [
  'unknown_topic',
  'unknown_family',
  'invalid_device_id',
  'payload_too_large',
  'invalid_json',
  'empty_batch',
  'batch_too_large',
  'invalid_type',
  'unknown_field',
  'no_metrics',
  'out_of_range',
  'invalid_timestamp',
  'timestamp_in_future',
  'timestamp_too_old',
  'unsupported_unit',
  'inconsistent_metrics',
  'invalid_senml',
  'storage_rejected',
] as const;

export type ReasonCode = (typeof REASON_CODES)[number];
