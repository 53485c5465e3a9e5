import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createDeviceRegistry } from '@city/registry';
import { testEnv, uniqueName } from '../../../test/support/env.ts';
import { buildFleet } from './build-fleet.ts';
import { provisionFleet } from './provision-fleet.ts';

const redis = new Redis(testEnv.redisUrl);
const prefix = uniqueName('simprov');
afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

describe('provisionFleet (real Redis)', () => {
  it('registers a fleet once, keeps working tokens on the next run, and replaces tokens it does not know', async () => {
    const registry = createDeviceRegistry({ redis, prefix });
    const devices = buildFleet({ devicesPerFamily: 2, families: ['traffic', 'water'], seed: 3 });

    const first = await provisionFleet(registry, devices, { expectedIntervalMs: 250 });
    expect([first.added, first.reused, first.rotated, first.tokens.size]).toEqual([4, 0, 0, 4]);
    const registered = await registry.listDevices();
    expect(registered.map((d) => [d.id, d.family, d.district, d.expectedIntervalMs])).toEqual(
      [...devices].sort((a, b) => a.deviceId.localeCompare(b.deviceId)).map((d) => [d.deviceId, d.family, d.district, 1000]),
    );

    const again = await provisionFleet(registry, devices, { known: first.tokens });
    expect([again.added, again.reused, again.rotated]).toEqual([0, 4, 0]);
    expect(again.tokens).toEqual(first.tokens);

    const forgetful = await provisionFleet(registry, devices);
    expect([forgetful.added, forgetful.reused, forgetful.rotated]).toEqual([0, 0, 4]);
    for (const [id, token] of forgetful.tokens) expect(await registry.verifyDevice(id, token)).toMatchObject({ ok: true });
    for (const [id, token] of first.tokens) expect(await registry.verifyDevice(id, token)).toEqual({ ok: false, reason: 'bad_token' });
  });
});
