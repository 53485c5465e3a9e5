import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface OpsServerOptions {
  /** The service's metrics, served as Prometheus text on `/metrics`. */
  registry: Registry;
  /**
   * Named readiness checks (Redis answers, the broker listens…). `/readyz` is 200 only when all are true.
   * A check that throws counts as false.
   */
  checks: Record<string, () => Promise<boolean>>;
}

/** `/healthz` (the process runs), `/readyz` (it can do its work), `/metrics` (Prometheus). Call `listen` yourself. */
export function buildOpsServer({ registry, checks }: OpsServerOptions): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get('/healthz', () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const results: Record<string, boolean> = {};
    await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        results[name] = await check().catch(() => false);
      }),
    );
    const ready = Object.values(results).every(Boolean);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks: results });
  });
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  return app;
}
