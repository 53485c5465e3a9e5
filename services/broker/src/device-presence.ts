import type { Logger } from '@city/logger';
import type { DeviceRegistry } from '@city/registry';

export interface DevicePresenceOptions {
  registry: Pick<DeviceRegistry, 'touchLastSeen'>;
  logger: Logger;
  now: () => number;
  /**
   * Devices seen since the last flush are written to the registry together, this often. A device publishing 10
   * times a second costs one Redis write per interval, and `lastSeenAt` is at most this late.
   * @defaultValue 10_000
   */
  flushIntervalMs?: number;
}

export interface DevicePresence {
  seen(deviceId: string): void;
  /** Write what was seen now (also called by the timer). */
  flush(): Promise<void>;
  /** Stop the timer and write what was seen. */
  close(): Promise<void>;
}

/** Last-seen times for the registry, throttled and batched: the per-publish cost is one Set insertion. */
export function createDevicePresence({ registry, logger, now, flushIntervalMs = 10_000 }: DevicePresenceOptions): DevicePresence {
  let seen = new Set<string>();
  let flushing: Promise<void> = Promise.resolve();

  function flush(): Promise<void> {
    if (seen.size === 0) return flushing;
    const ids = seen;
    seen = new Set();
    flushing = flushing
      .then(() => registry.touchLastSeen(ids, now()))
      .then(
        () => undefined,
        (err: unknown) => {
          // Kept for the next flush: a Redis outage delays last-seen times, it does not lose them.
          for (const id of ids) seen.add(id);
          logger.warn({ err: (err as Error).message, devices: ids.size }, 'last-seen times not written; retrying at the next flush');
        },
      );
    return flushing;
  }

  const timer = setInterval(() => void flush(), flushIntervalMs);
  timer.unref();

  return {
    seen(deviceId) {
      seen.add(deviceId);
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
