export { DEAD_LETTER_STREAM, QUEUES, TELEMETRY_BACKOFF_TYPE, TELEMETRY_RETRY, alertJobId } from './catalog.ts';
export { createRedis } from './create-redis.ts';
export {
  ReplayRecordSchema,
  createDeadLetterStore,
  type DeadLetterStore,
  type DeadLetterStoreOptions,
  type ReplayRecord,
  type StoredDeadLetter,
} from './dead-letter-store.ts';
export { listDeadLetters, type DeadLetterList, type ListDeadLettersOptions } from './dead-letter-list.ts';
export { replayDeadLetters, type ReplayDeadLettersOptions, type ReplayResult, type ReplayStatus } from './dead-letter-replay.ts';
export {
  failedReasonCode,
  listFailedTelemetry,
  replayFailedTelemetry,
  type FailedBatch,
  type FailedReplayResult,
  type FailedReplayStatus,
  type FailedTelemetryList,
  type ListFailedTelemetryOptions,
  type ReplayFailedTelemetryOptions,
} from './failed-telemetry.ts';
