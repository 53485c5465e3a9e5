import { describe, expect, it } from 'vitest';
import { createLogger } from '@city/logger';
import { createDevicePresence } from './device-presence.ts';

const logger = createLogger({ name: 'test', level: 'silent' });

describe('createDevicePresence', () => {
  it('turns many sightings of many devices into one registry write per flush, stamped with the flush time', async () => {
    const writes: Array<[string[], number]> = [];
    const presence = createDevicePresence({
      registry: { touchLastSeen: (ids, at) => (writes.push([[...ids], at]), Promise.resolve(0)) },
      logger,
      now: () => 5000,
      flushIntervalMs: 60_000,
    });
    for (let i = 0; i < 100; i++) presence.seen(i % 2 === 0 ? 'aq-1' : 'trf-2'); // 10 publishes/s for 10 s, two devices
    await presence.flush();
    await presence.flush(); // nothing new: no write
    expect(writes).toEqual([[['aq-1', 'trf-2'], 5000]]);
    await presence.close();
  });

  it('keeps the sightings of a failed write for the next flush', async () => {
    let fail = true;
    const writes: string[][] = [];
    const presence = createDevicePresence({
      registry: { touchLastSeen: (ids) => (fail ? Promise.reject(new Error('redis down')) : (writes.push([...ids]), Promise.resolve(1))) },
      logger,
      now: () => 0,
      flushIntervalMs: 60_000,
    });
    presence.seen('aq-1');
    await presence.flush();
    fail = false;
    presence.seen('aq-2');
    await presence.close();
    expect(writes).toEqual([['aq-1', 'aq-2']]);
  });
});
