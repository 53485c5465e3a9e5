import { Redis, type RedisOptions } from 'ioredis';

/**
 * `producer`: the broker. Commands fail at once while Redis is unreachable instead of queueing in memory,
 * so a device is never acknowledged for a reading that only sits in our process.
 * `worker`: BullMQ workers block on Redis and must retry forever (`maxRetriesPerRequest: null`).
 */
export function createRedis(url: string, role: 'producer' | 'worker', extra: RedisOptions = {}): Redis {
  const options: RedisOptions =
    role === 'producer'
      ? { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000, ...extra }
      : { maxRetriesPerRequest: null, ...extra };
  return new Redis(url, { lazyConnect: false, retryStrategy: (times) => Math.min(times * 200, 2000), ...options });
}
