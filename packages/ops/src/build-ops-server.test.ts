import { describe, expect, it } from 'vitest';
import { Counter, Registry } from 'prom-client';
import { buildOpsServer } from './build-ops-server.ts';

describe('buildOpsServer', () => {
  it('serves health, readiness from its checks, and Prometheus metrics', async () => {
    const registry = new Registry();
    new Counter({ name: 'things_total', help: 'things', registers: [registry] }).inc(3);
    let redisUp = true;
    const app = buildOpsServer({ registry, checks: { redis: () => Promise.resolve(redisUp), broken: () => Promise.resolve(true) } });

    expect((await app.inject('/healthz')).statusCode).toBe(200);
    expect((await app.inject('/readyz')).json()).toEqual({ status: 'ready', checks: { redis: true, broken: true } });
    redisUp = false;
    const notReady = await app.inject('/readyz');
    expect([notReady.statusCode, notReady.json()]).toEqual([503, { status: 'not ready', checks: { redis: false, broken: true } }]);
    expect((await app.inject('/metrics')).body).toMatch(/^things_total 3$/m);
  });
});
