import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { testEnv, uniqueName } from '../../../test/support/env.ts';
import { eventually } from '../../../test/support/start-pipeline.ts';
import { createDeviceRegistry, type RegistryChange } from './create-device-registry.ts';
import { tokenMatchesHash } from './credential-token.ts';

const redis = new Redis(testEnv.redisUrl);
const prefix = uniqueName('reg');
let clock = Date.UTC(2026, 0, 15, 8);
const registry = createDeviceRegistry({ redis, prefix, now: () => clock });

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

describe('createDeviceRegistry (real Redis)', () => {
  it('adds a device, returns its token once, stores only its hash', async () => {
    const added = await registry.addDevice({ id: 'aq-medeu-0001', family: 'airquality', district: 'medeu', lat: 43.2389, lon: 76.8897, expectedIntervalMs: 60_000, enabled: true });
    if (!added.ok) throw new Error('not added');
    expect(added.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(added.record).toEqual({
      id: 'aq-medeu-0001', family: 'airquality', district: 'medeu', location: { lat: 43.2389, lon: 76.8897 },
      expectedIntervalMs: 60_000, enabled: true, createdAt: clock, tokenIssuedAt: clock,
    });
    const stored = await redis.hgetall(registry.keys.device('aq-medeu-0001'));
    expect(Object.values(stored).join(' ')).not.toContain(added.token);
    expect(tokenMatchesHash(added.token, stored.tokenHash!)).toBe(true);
    expect(await registry.addDevice({ id: 'aq-medeu-0001', family: 'traffic', enabled: true })).toEqual({ ok: false, reason: 'exists' });
    expect((await registry.getDevice('aq-medeu-0001'))?.family).toBe('airquality');
  });

  it('verifies a token in constant time and tells unknown, wrong token and disabled apart', async () => {
    const added = await registry.addDevice({ id: 'trf-1', family: 'traffic', enabled: true });
    if (!added.ok) throw new Error('not added');
    expect(await registry.verifyDevice('trf-1', added.token)).toMatchObject({ ok: true, record: { id: 'trf-1' } });
    expect(await registry.verifyDevice('trf-1', 'x'.repeat(43))).toEqual({ ok: false, reason: 'bad_token' });
    expect(await registry.verifyDevice('trf-404', added.token)).toEqual({ ok: false, reason: 'unknown' });
    expect(await registry.setDeviceEnabled('trf-1', false)).toBe(true);
    expect(await registry.verifyDevice('trf-1', added.token)).toEqual({ ok: false, reason: 'disabled' });
    expect(await registry.setDeviceEnabled('trf-1', true)).toBe(true);
    expect(await registry.verifyDevice('trf-1', added.token)).toMatchObject({ ok: true });
    expect(await registry.setDeviceEnabled('trf-404', false)).toBe(false);
  });

  it('rotates a token: the old one stops working, the new one works', async () => {
    const added = await registry.addDevice({ id: 'wtr-1', family: 'water', enabled: true });
    if (!added.ok) throw new Error('not added');
    clock += 1000;
    const rotated = await registry.rotateDeviceToken('wtr-1');
    expect(rotated).toBeDefined();
    expect(rotated).not.toBe(added.token);
    expect(await registry.verifyDevice('wtr-1', added.token)).toEqual({ ok: false, reason: 'bad_token' });
    expect(await registry.verifyDevice('wtr-1', rotated!)).toMatchObject({ ok: true, record: { tokenIssuedAt: clock } });
    expect(await registry.rotateDeviceToken('wtr-404')).toBeUndefined();
  });

  it('deletes a device and its index entry', async () => {
    await registry.addDevice({ id: 'elc-gone', family: 'electricity', enabled: true });
    expect(await registry.deleteDevice('elc-gone')).toBe(true);
    expect(await registry.getDevice('elc-gone')).toBeUndefined();
    expect((await registry.listDevices()).map((d) => d.id)).not.toContain('elc-gone');
    expect(await registry.deleteDevice('elc-gone')).toBe(false);
  });

  it('lists in id order with filters', async () => {
    const p = uniqueName('lst');
    const list = createDeviceRegistry({ redis, prefix: p });
    await list.importDevices([
      { id: 'b-2', family: 'traffic', district: 'medeu', enabled: true },
      { id: 'a-1', family: 'airquality', district: 'medeu', enabled: true },
      { id: 'c-3', family: 'airquality', district: 'almaly', enabled: false },
    ]);
    expect((await list.listDevices()).map((d) => d.id)).toEqual(['a-1', 'b-2', 'c-3']);
    expect((await list.listDevices({ family: 'airquality' })).map((d) => d.id)).toEqual(['a-1', 'c-3']);
    expect((await list.listDevices({ district: 'medeu', family: 'airquality' })).map((d) => d.id)).toEqual(['a-1']);
    expect((await list.listDevices({ enabled: false })).map((d) => d.id)).toEqual(['c-3']);
    await redis.del(...(await redis.keys(`${p}:*`)));
  });

  it('imports in bulk: new rows get tokens, existing ids fail, or update metadata but not the token or enabled flag', async () => {
    const first = await registry.addDevice({ id: 'imp-1', family: 'water', district: 'auezov', lat: 1, lon: 2, enabled: true });
    if (!first.ok) throw new Error('not added');
    await registry.setDeviceEnabled('imp-1', false);
    const rows = [
      { id: 'imp-1', family: 'electricity' as const, district: 'medeu', enabled: true },
      ...Array.from({ length: 600 }, (_, i) => ({ id: `imp-bulk-${i}`, family: 'traffic' as const, enabled: true })),
    ];
    const failing = await registry.importDevices(rows.slice(0, 2));
    expect(failing.failed).toEqual([{ id: 'imp-1', reason: 'exists' }]);
    expect(failing.added.map((a) => a.id)).toEqual(['imp-bulk-0']);

    const updating = await registry.importDevices(rows, { existing: 'update' });
    expect(updating.updated).toEqual(['imp-1', 'imp-bulk-0']);
    expect(updating.added).toHaveLength(599);
    expect(await registry.verifyDevice(updating.added[598]!.id, updating.added[598]!.token)).toMatchObject({ ok: true });
    const updated = await registry.getDevice('imp-1');
    expect(updated).toMatchObject({ family: 'electricity', district: 'medeu', enabled: false });
    expect(updated?.location).toBeUndefined(); // the inventory is the truth: a coordinate it no longer has is gone
    expect(await registry.verifyDevice('imp-1', first.token)).toEqual({ ok: false, reason: 'disabled' }); // token kept
  });

  it('touchLastSeen writes only known devices, only forward in time, in one call for many ids', async () => {
    await registry.addDevice({ id: 'seen-1', family: 'traffic', enabled: true });
    await registry.addDevice({ id: 'seen-2', family: 'traffic', enabled: true });
    expect(await registry.touchLastSeen(['seen-1', 'seen-2', 'seen-unknown'], 5000)).toBe(2);
    expect(await registry.touchLastSeen(['seen-1'], 4000)).toBe(0);
    expect((await registry.getDevice('seen-1'))?.lastSeenAt).toBe(5000);
    expect(await redis.exists(registry.keys.device('seen-unknown'))).toBe(0);
  });

  it('announces every change on pub/sub, to every watcher', async () => {
    const heard: RegistryChange[] = [];
    const watch = await registry.watch((change) => heard.push(change));
    const added = await registry.addDevice({ id: 'watched-1', family: 'airquality', enabled: true });
    await registry.setDeviceEnabled('watched-1', false);
    await registry.setDeviceEnabled('watched-1', true);
    await registry.rotateDeviceToken('watched-1');
    await registry.importDevices([{ id: 'watched-1', family: 'traffic', enabled: true }], { existing: 'update' });
    await registry.deleteDevice('watched-1');
    await registry.addOperator('watcher', 'operator');
    await registry.touchLastSeen(['watched-1'], 1); // not a change anyone must react to: no notice
    expect(added.ok).toBe(true);
    await eventually(() => Promise.resolve(heard.length), (n) => n >= 7);
    await watch.close();
    expect(heard).toEqual([
      { entity: 'device', id: 'watched-1', change: 'added' },
      { entity: 'device', id: 'watched-1', change: 'disabled' },
      { entity: 'device', id: 'watched-1', change: 'enabled' },
      { entity: 'device', id: 'watched-1', change: 'rotated' },
      { entity: 'device', id: 'watched-1', change: 'updated' },
      { entity: 'device', id: 'watched-1', change: 'deleted' },
      { entity: 'operator', id: 'watcher', change: 'added' },
    ]);
  });

  it('reports a resync after its subscription was cut, and hears changes again once back', async () => {
    const heard: RegistryChange[] = [];
    const watch = await registry.watch((change) => heard.push(change));
    const clients = (await redis.client('LIST')) as string;
    const line = clients.split('\n').find((l) => l.includes(` name=${prefix}:registry:watch `));
    const clientId = /\bid=(\d+)/.exec(line ?? '')?.[1];
    expect(clientId).toBeDefined();
    await redis.client('KILL', 'ID', clientId!); // a network cut, as the real server does it
    await eventually(() => Promise.resolve(heard), (h) => h.some((c) => c.change === 'resync'));
    await registry.addDevice({ id: 'after-cut', family: 'water', enabled: true });
    await eventually(() => Promise.resolve(heard), (h) => h.some((c) => c.entity === 'device' && c.id === 'after-cut'));
    await watch.close();
    expect(heard).toEqual([{ entity: 'all', change: 'resync' }, { entity: 'device', id: 'after-cut', change: 'added' }]);
  });

  it('keeps operator accounts apart from devices, with a role', async () => {
    const added = await registry.addOperator('alice', 'operator');
    const service = await registry.addOperator('alerts', 'service');
    if (!added.ok || !service.ok) throw new Error('not added');
    expect(await registry.addOperator('alice', 'service')).toEqual({ ok: false, reason: 'exists' });
    expect(await registry.verifyOperator('alice', added.token)).toMatchObject({ ok: true, record: { name: 'alice', role: 'operator', enabled: true } });
    expect(await registry.verifyDevice('alice', added.token)).toEqual({ ok: false, reason: 'unknown' });
    expect(await registry.verifyOperator('alice', service.token)).toEqual({ ok: false, reason: 'bad_token' });
    await registry.setOperatorEnabled('alice', false);
    expect(await registry.verifyOperator('alice', added.token)).toEqual({ ok: false, reason: 'disabled' });
    const rotated = await registry.rotateOperatorToken('alerts');
    expect(await registry.verifyOperator('alerts', rotated!)).toMatchObject({ ok: true, record: { role: 'service' } });
    expect((await registry.listOperators()).map((o) => [o.name, o.role, o.enabled])).toEqual([
      ['alerts', 'service', true], ['alice', 'operator', false], ['watcher', 'operator', true],
    ]);
    expect(await registry.deleteOperator('alice')).toBe(true);
    expect(await registry.getOperator('alice')).toBeUndefined();
  });
});
