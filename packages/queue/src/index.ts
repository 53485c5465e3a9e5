export { DEAD_LETTER_STREAM, QUEUES, alertJobId } from './catalog.ts';
export { createRedis } from './create-redis.ts';
export { createDeadLetterStore, type DeadLetterStore, type DeadLetterStoreOptions } from './dead-letter-store.ts';
