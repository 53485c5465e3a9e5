import { describe, expect, it } from 'vitest';
import { classifyWriteFailure, parseRetryAfterMs } from './classify-write-failure.ts';

describe('classifyWriteFailure', () => {
  // Bodies as the servers send them (1.6.7 answers JSON `{"error": ...}`, 2.x `{"code":..,"message":..}`).
  const cases: Array<[string, number, string, Record<string, string>, string, boolean, number | undefined]> = [
    [
      '1.x partial write',
      400,
      '{"error":"partial write: field type conflict: input field \\"v\\" on measurement \\"m\\" is type string, already exists as type float dropped=1"}\n',
      {},
      'bad_request',
      false,
      undefined,
    ],
    [
      '2.x bad line',
      400,
      '{"code":"invalid","message":"unable to parse \'x\': missing fields"}',
      {},
      'bad_request',
      false,
      undefined,
    ],
    [
      '3.x partial write accepted some lines',
      201,
      '{"error":"partial write of line protocol occurred"}',
      {},
      'bad_request',
      false,
      undefined,
    ],
    ['body too large', 413, '', {}, 'bad_request', false, undefined],
    ['unprocessable', 422, '', {}, 'bad_request', false, undefined],
    ['1.x bad credentials', 401, '{"error":"authorization failed"}', {}, 'unauthorized', false, undefined],
    [
      '2.x token without write permission',
      403,
      '{"code":"forbidden","message":"insufficient permissions for write"}',
      {},
      'unauthorized',
      false,
      undefined,
    ],
    ['1.x missing database', 404, '{"error":"database not found: \\"nope\\""}', {}, 'not_found', false, undefined],
    [
      '2.x missing bucket',
      404,
      '{"code":"not found","message":"bucket \\"b\\" not found"}',
      {},
      'not_found',
      false,
      undefined,
    ],
    [
      '1.x missing retention policy',
      500,
      '{"error":"retention policy not found: nope"}',
      {},
      'not_found',
      false,
      undefined,
    ],
    [
      '1.x missing database as 500',
      500,
      '{"error":"database not found: \\"nope\\""}',
      {},
      'not_found',
      false,
      undefined,
    ],
    [
      '1.x error only in the header',
      500,
      '',
      { 'x-influxdb-error': 'retention policy not found: rp' },
      'not_found',
      false,
      undefined,
    ],
    ['other 500', 500, '{"error":"timeout"}', {}, 'server', true, undefined],
    ['bad gateway', 502, '<html>bad gateway</html>', {}, 'server', true, undefined],
    ['request timeout', 408, '', {}, 'server', true, undefined],
    [
      'throttled with Retry-After',
      429,
      '{"code":"too many requests"}',
      { 'retry-after': '30' },
      'throttled',
      true,
      30_000,
    ],
    ['1.x overloaded', 503, 'write limit exceeded', {}, 'throttled', true, undefined],
    ['503 with Retry-After', 503, '', { 'retry-after': '2' }, 'throttled', true, 2_000],
    ['redirect not followed', 301, '', { location: 'https://x' }, 'server', false, undefined],
  ];

  it.each(cases)('%s: %i -> %s', (_label, status, body, headers, code, retryable, retryAfterMs) => {
    const error = classifyWriteFailure(status, body, headers);
    expect({
      code: error.code,
      retryable: error.retryable,
      status: error.status,
      retryAfterMs: error.retryAfterMs,
    }).toEqual({
      code,
      retryable,
      status,
      retryAfterMs,
    });
  });

  it('keeps the server answer, cut to 1 KiB, and puts its error text in the message', () => {
    const error = classifyWriteFailure(400, `{"error":"partial write: ${'x'.repeat(3000)}"}`, {});
    expect(error.body).toHaveLength(1024);
    expect(error.body.startsWith('{"error":"partial write: xxx')).toBe(true);
    expect(error.message).toMatch(/^write rejected with HTTP 400 \(bad_request\): partial write: x+$/);
  });

  it('reads fetch Headers and node:http header arrays alike', () => {
    expect(classifyWriteFailure(429, '', new Headers({ 'Retry-After': '5' })).retryAfterMs).toBe(5_000);
    expect(classifyWriteFailure(429, '', { 'retry-after': ['7'] }).retryAfterMs).toBe(7_000);
  });
});

describe('parseRetryAfterMs', () => {
  it.each([
    ['0', undefined, 0],
    ['120', undefined, 120_000],
    [' 3 ', undefined, 3_000],
    ['1.5', undefined, undefined],
    ['-1', undefined, undefined],
    ['soon', 0, undefined],
    ['Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'), 10_000],
    ['Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:29:00 GMT'), 0],
    ['Wed, 21 Oct 2015 07:28:10 GMT', undefined, undefined],
  ])('%j at %s -> %s', (value, nowMs, expected) => {
    expect(parseRetryAfterMs(value, nowMs)).toBe(expected);
  });
  it('is undefined without a header', () => expect(parseRetryAfterMs(undefined)).toBeUndefined());
});
