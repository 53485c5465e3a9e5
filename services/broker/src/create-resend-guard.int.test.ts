import { afterAll, describe, expect, it } from 'vitest';
import { createRedis } from '@city/queue';
import { testEnv, uniqueName } from '../../../test/support/env.ts';
import { createResendGuard } from './create-resend-guard.ts';

describe('createResendGuard (real Redis)', () => {
  const redis = createRedis(testEnv.redisUrl, 'producer', { enableOfflineQueue: true });
  const prefix = uniqueName('resend');
  afterAll(() => redis.quit());
  const payload = new TextEncoder().encode('{"pm25": 12}');

  it('gives a resend on a later connection the first receive time, and a repeat on the same connection its own', async () => {
    const guard = createResendGuard({ redis: () => redis, prefix, windowMs: 10_000 });
    const [first, second, third] = [{}, {}, {}];
    const at = (connection: object, receivedAt: number, body = payload, messageId = 7) =>
      guard.firstReceivedAt({ clientId: 'aq-1', connection, messageId, payload: body, receivedAt });
    expect(await at(first, 1000)).toBe(1000);
    expect(await at(second, 2000)).toBe(1000); // resent after a reconnect
    expect(await at(third, 3000)).toBe(1000); // and again after another
    expect(await at(third, 4000)).toBe(4000); // the id reused on one connection: a new reading
    expect(await at({}, 5000, new TextEncoder().encode('{"pm25": 13}'))).toBe(5000); // same id, other payload
    expect(await at({}, 6000, payload, 8)).toBe(6000); // other id
  });

  it('forgets a delivery after the window, and does nothing with a window of 0', async () => {
    const guard = createResendGuard({ redis: () => redis, prefix, windowMs: 50 });
    await guard.firstReceivedAt({ clientId: 'w-1', connection: {}, messageId: 1, payload, receivedAt: 1 });
    await new Promise((r) => setTimeout(r, 120));
    expect(await guard.firstReceivedAt({ clientId: 'w-1', connection: {}, messageId: 1, payload, receivedAt: 2 })).toBe(2);
    const off = createResendGuard({ redis: () => redis, prefix, windowMs: 0 });
    expect(await off.firstReceivedAt({ clientId: 'w-2', connection: {}, messageId: 1, payload, receivedAt: 3 })).toBe(3);
    expect(await redis.exists(`${prefix}:resend:w-2:1`)).toBe(0);
  });
});
