import { describe, expect, it } from 'vitest';
import { SinkWriteError, classifyWriteFailure, networkWriteError } from '@city/influx';
import { decideWriteFailure } from './decide-write-failure.ts';

const answer = (status: number, body: string, headers: Record<string, string> = {}) => classifyWriteFailure(status, body, headers, 0);

describe('decideWriteFailure', () => {
  it('waits out a database that is down or throttling, without using attempts', () => {
    expect(decideWriteFailure(networkWriteError(new Error('connect ECONNREFUSED 127.0.0.1:8086')))).toBe('wait');
    expect(decideWriteFailure(answer(503, 'Service Unavailable'))).toBe('wait');
    expect(decideWriteFailure(answer(429, '', { 'retry-after': '2' }))).toBe('wait');
    expect(decideWriteFailure(answer(500, '{"error":"timeout"}'))).toBe('wait');
  });

  it('splits a write the database partly refused (400)', () => {
    expect(decideWriteFailure(answer(400, '{"error":"partial write: field type conflict: input field \\"pm25\\" on measurement \\"airquality\\" is type boolean, already exists as type float dropped=1"}'))).toBe('split');
  });

  it('fails the jobs when no retry can fix it', () => {
    expect(decideWriteFailure(answer(500, '{"error":"retention policy not found: rp"}'))).toBe('fail');
    expect(decideWriteFailure(answer(404, '{"error":"database not found: \\"x\\""}'))).toBe('fail');
    expect(decideWriteFailure(answer(401, '{"error":"authorization failed"}'))).toBe('fail');
  });

  it('leaves anything else to the queue', () => {
    expect(decideWriteFailure(new TypeError('bug'))).toBe('error');
    expect(decideWriteFailure(new SinkWriteError({ code: 'server', message: 'x', retryable: false }))).toBe('fail');
  });
});
