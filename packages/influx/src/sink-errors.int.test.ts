import http from 'node:http';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEnv, uniqueName } from '../../../test/support/env.ts';
import {
  createInfluxV1Database,
  dropInfluxV1Database,
  exportVictoria,
  queryInfluxV1,
} from '../../../test/support/read-points.ts';
import type { Sink } from './sink.ts';
import { SinkWriteError } from './sink-write-error.ts';
import { createV1Sink } from './v1-sink.ts';
import { createV2Sink } from './v2-sink.ts';

async function writeError(sink: Sink, lines: readonly string[]): Promise<SinkWriteError> {
  const outcome: unknown = await sink.write(lines).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(outcome instanceof SinkWriteError)) throw new Error(`expected a SinkWriteError, got ${String(outcome)}`);
  return outcome;
}

const nowMs = (): number => Math.floor(Date.now() / 1000) * 1000 - 600_000;

describe('write errors from the real InfluxDB 1.6.7', () => {
  const database = uniqueName('sink_errors');
  const sinks: Sink[] = [];
  const v1 = (options: { database: string; retentionPolicy?: string }): Sink => {
    const sink = createV1Sink({ url: testEnv.influxV1Url, ...options });
    sinks.push(sink);
    return sink;
  };
  beforeAll(() => createInfluxV1Database(testEnv.influxV1Url, database));
  afterAll(async () => {
    await Promise.all(sinks.map((s) => s.close()));
    await dropInfluxV1Database(testEnv.influxV1Url, database);
  });

  it('a missing database answers 404 "database not found": not_found, not retryable', async () => {
    const missing = uniqueName('no_such_db');
    const error = await writeError(v1({ database: missing }), [`m v=1 ${nowMs()}`]);
    expect(error).toMatchObject({ code: 'not_found', status: 404, retryable: false });
    expect(error.body).toBe(`{"error":"database not found: \\"${missing}\\""}\n`);
  });

  it('a missing retention policy answers 500 "retention policy not found": not_found, not retryable', async () => {
    const error = await writeError(v1({ database, retentionPolicy: 'no_such_rp' }), [`m v=1 ${nowMs()}`]);
    expect(error).toMatchObject({ code: 'not_found', status: 500, retryable: false });
    expect(error.message).toMatch(/retention policy not found: no_such_rp/);
  });

  it('a field type conflict answers 400 with the server text, and the valid lines of the batch are stored', async () => {
    const sink = v1({ database });
    const t = nowMs();
    await sink.write([`conflict,device=a level=1.5 ${t}`]);
    const error = await writeError(sink, [
      `conflict,device=b level=2.5 ${t + 1}`,
      `conflict,device=c level="high" ${t + 2}`,
      `conflict,device=d level=3.5 ${t + 3}`,
    ]);
    expect(error).toMatchObject({ code: 'bad_request', status: 400, retryable: false });
    expect(error.body).toMatch(
      /partial write: field type conflict: input field \\"level\\" on measurement \\"conflict\\" is type string, already exists as type float dropped=1/,
    );
    expect(error.message).toMatch(/field type conflict/);

    const rows = await queryInfluxV1(testEnv.influxV1Url, database, 'SELECT * FROM "conflict"');
    expect(rows).toEqual([
      { time: t, device: 'a', level: 1.5 },
      { time: t + 1, device: 'b', level: 2.5 },
      { time: t + 3, device: 'd', level: 3.5 },
    ]);
  });
});

describe('write errors from the real VictoriaMetrics', () => {
  it('answers 204 to an unparsable line and drops only that line (so the sink cannot report it)', async () => {
    const measurement = uniqueName('vm_garbage').replaceAll('-', '_');
    const sink = createV2Sink({ url: testEnv.influxV2Url, org: 'city', bucket: 'telemetry' });
    const t = nowMs();
    await sink.write([
      `${measurement},device=a v=1 ${t}`,
      'this is not line protocol',
      `${measurement},device=b v=2 ${t}`,
    ]);
    await sink.close();
    const series = await exportVictoria(testEnv.influxV2Url, `{__name__="${measurement}_v"}`);
    expect(series.map((s) => s.metric.device).sort()).toEqual(['a', 'b']);
  });
});

/**
 * A stand-in server for answers the real ones cannot give on demand (throttling, hanging). It records each
 * request and answers with `respond`.
 */
interface FakeRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}
async function startFakeServer(respond: (req: FakeRequest, res: http.ServerResponse) => void): Promise<{
  url: string;
  requests: FakeRequest[];
  close(): Promise<void>;
}> {
  const requests: FakeRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      respond(recorded, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const flavours: Array<{
  name: string;
  sink: (url: string, timeoutMs?: number) => Sink;
  writePath: RegExp;
  auth: string;
}> = [
  {
    name: 'v1 sink',
    sink: (url, timeoutMs) =>
      createV1Sink({
        url,
        database: 'city',
        retentionPolicy: 'raw',
        username: 'writer',
        password: 's3cret',
        timeoutMs,
      }),
    writePath: /^\/write\?db=city&precision=ms&rp=raw$/,
    auth: `Basic ${Buffer.from('writer:s3cret').toString('base64')}`,
  },
  {
    name: 'v2 sink',
    sink: (url, timeoutMs) => createV2Sink({ url, token: 'tok3n', org: 'city org', bucket: 'telemetry', timeoutMs }),
    writePath: /^\/api\/v2\/write\?org=city\+org&bucket=telemetry&precision=ms$/,
    auth: 'Token tok3n',
  },
];

describe.each(flavours)('$name: answers only a fake server can give', ({ sink: makeSink, writePath, auth }) => {
  it('429 with Retry-After is throttled, retryable, with retryAfterMs', async () => {
    const fake = await startFakeServer((_req, res) => {
      res
        .writeHead(429, { 'content-type': 'application/json', 'retry-after': '3' })
        .end('{"code":"too many requests","message":"slow down"}');
    });
    const sink = makeSink(fake.url);
    try {
      const error = await writeError(sink, ['m v=1 1700000000000', 'm v=2 1700000000001']);
      expect(error).toMatchObject({ code: 'throttled', status: 429, retryable: true, retryAfterMs: 3_000 });
      expect(error.message).toMatch(/slow down/);
      // One request, as the sink was asked: no retries, no splitting, lines joined by "\n".
      expect(fake.requests).toHaveLength(1);
      expect(fake.requests[0]).toMatchObject({ method: 'POST', body: 'm v=1 1700000000000\nm v=2 1700000000001' });
      expect(fake.requests[0]?.url).toMatch(writePath);
      expect(fake.requests[0]?.headers.authorization).toBe(auth);
    } finally {
      await sink.close();
      await fake.close();
    }
  });

  it('503 (InfluxDB 1.x overloaded, plain text) is throttled and retryable, with retryAfterMs when given', async () => {
    let retryAfter: string | undefined = '2';
    const fake = await startFakeServer((_req, res) => {
      res
        .writeHead(503, {
          'content-type': 'text/plain',
          ...(retryAfter === undefined ? {} : { 'retry-after': retryAfter }),
        })
        .end('write limit exceeded');
    });
    const sink = makeSink(fake.url);
    try {
      expect(await writeError(sink, ['m v=1 1700000000000'])).toMatchObject({
        code: 'throttled',
        status: 503,
        retryable: true,
        retryAfterMs: 2_000,
        body: 'write limit exceeded',
      });
      retryAfter = undefined;
      expect(await writeError(sink, ['m v=1 1700000000000'])).toMatchObject({
        code: 'throttled',
        retryable: true,
        retryAfterMs: undefined,
      });
    } finally {
      await sink.close();
      await fake.close();
    }
  });

  it('a server that never answers: the write rejects as a retryable network error at timeoutMs', async () => {
    const fake = await startFakeServer(() => {
      // never answer
    });
    const sink = makeSink(fake.url, 300);
    try {
      const started = performance.now();
      const error = await writeError(sink, ['m v=1 1700000000000']);
      const elapsedMs = performance.now() - started;
      expect(error).toMatchObject({ code: 'network', retryable: true, status: undefined });
      expect(elapsedMs).toBeGreaterThanOrEqual(250);
      expect(elapsedMs).toBeLessThan(3_000);
    } finally {
      await sink.close();
      await fake.close();
    }
  });

  it('concurrent writes get their own outcome', async () => {
    const fake = await startFakeServer((req, res) => {
      if (req.body.includes('reject')) res.writeHead(429, { 'retry-after': '1' }).end('{"error":"throttled"}');
      else setTimeout(() => res.writeHead(204).end(), 20);
    });
    const sink = makeSink(fake.url);
    try {
      const outcomes = await Promise.allSettled(
        ['ok1', 'reject1', 'ok2', 'reject2', 'ok3'].map((tag) => sink.write([`m,t=${tag} v=1 1700000000000`])),
      );
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
      expect(fake.requests).toHaveLength(5);
    } finally {
      await sink.close();
      await fake.close();
    }
  });
});
