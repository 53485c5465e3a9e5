import { describe, expect, it } from 'vitest';
import { createSink } from './create-sink.ts';

// Building a sink opens nothing: these need no server.
describe('createSink', () => {
  it('builds the sink the config names', async () => {
    const v1 = createSink({ api: 'v1', url: 'http://127.0.0.1:8086/', database: 'city' });
    const v2 = createSink({ api: 'v2', url: 'http://127.0.0.1:8086', org: 'city', bucket: 'telemetry' });
    expect([v1.api, v2.api]).toEqual(['v1', 'v2']);
    await Promise.all([v1.close(), v2.close()]);
  });

  it.each([
    [{ api: 'v1', url: 'not a url', database: 'city' }, /is not a URL/],
    [{ api: 'v1', url: 'ftp://127.0.0.1', database: 'city' }, /must be http\(s\)/],
    [{ api: 'v1', url: 'http://127.0.0.1:8086?db=x', database: 'city' }, /query or fragment/],
    [{ api: 'v1', url: 'http://127.0.0.1:8086', database: '' }, /database must be a non-empty string/],
    [{ api: 'v1', url: 'http://127.0.0.1:8086', database: 'city', retentionPolicy: '' }, /retentionPolicy/],
    [{ api: 'v1', url: 'http://127.0.0.1:8086', database: 'city', timeoutMs: 0 }, /timeoutMs must be a positive/],
    [{ api: 'v2', url: 'http://127.0.0.1:8086', org: '', bucket: 'b' }, /org must be/],
    [{ api: 'v2', url: 'http://127.0.0.1:8086', org: 'o', bucket: '' }, /bucket must be/],
    [{ api: 'v2', url: 'http://127.0.0.1:8086', org: 'o', bucket: 'b', timeoutMs: Number.NaN }, /timeoutMs/],
    [{ api: 'v2', url: 'http://127.0.0.1:8086', org: 'o', bucket: 'b', gzipThresholdBytes: -1 }, /gzipThresholdBytes/],
  ] as const)('rejects %j', (config, message) => {
    expect(() => createSink(config)).toThrow(message);
  });
});
