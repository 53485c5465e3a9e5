export { DEAD_LETTER_STREAM, QUEUES, alertJobId } from './catalog.ts';
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
