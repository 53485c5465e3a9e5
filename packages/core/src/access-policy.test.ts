import { describe, expect, it } from 'vitest';
import { canPublish, canSubscribe, type AccessDeniedReason, type Principal } from './access-policy.ts';

const device: Principal = { kind: 'device', deviceId: 'aq-medeu-0009', family: 'airquality' };
const operator: Principal = { kind: 'operator', name: 'alice', role: 'operator' };
const service: Principal = { kind: 'operator', name: 'alerts', role: 'service' };

type Row = [Principal, string, true | AccessDeniedReason];
const outcome = (d: ReturnType<typeof canPublish>) => (d.allowed ? true : d.reason);

describe('canPublish', () => {
  it.each<Row>([
    [device, 'city/v1/airquality/aq-medeu-0009/telemetry', true],
    [device, 'city/v1/airquality/aq-medeu-0009/status', true],
    [device, 'city/v1/airquality/aq-medeu-0010/telemetry', 'not_own_topic'], // another device
    [device, 'city/v1/traffic/aq-medeu-0009/telemetry', 'not_own_topic'], // not its registered family
    [device, 'city/v1/airquality/aq-medeu-0009/command', 'not_own_topic'], // commands go to it, not from it
    [device, 'city/v1/airquality/aq-medeu-0009/errors', 'not_own_topic'],
    [device, 'city/v1/alerts/high/airquality/aq-medeu-0009', 'not_own_topic'],
    [device, 'city/v1/airquality/aq-medeu-0009/telemetry/x', 'not_own_topic'],
    [device, '$SYS/broker/x', 'sys_topic'],
    [service, 'city/v1/alerts/high/airquality/aq-medeu-0009', true],
    [service, 'city/v1/airquality/aq-medeu-0009/telemetry', 'role_not_permitted'],
    [service, 'city/v1/alerts', 'role_not_permitted'],
    [operator, 'city/v1/alerts/high/airquality/aq-medeu-0009', 'role_not_permitted'],
    [operator, 'city/v1/airquality/aq-medeu-0009/command', 'role_not_permitted'],
    [operator, '$SYS/x', 'sys_topic'],
  ])('%j → %s: %s', (principal, topic, expected) => {
    expect(outcome(canPublish(principal, topic))).toBe(expected);
  });

  it('explains a denial with the allowed topic', () => {
    expect(canPublish(device, 'city/v1/airquality/other/telemetry')).toEqual({
      allowed: false,
      reason: 'not_own_topic',
      detail: 'device aq-medeu-0009 may publish only to city/v1/airquality/aq-medeu-0009/telemetry and .../status, not city/v1/airquality/other/telemetry',
    });
  });
});

describe('canSubscribe', () => {
  it.each<Row>([
    [device, 'city/v1/airquality/aq-medeu-0009/command', true],
    [device, 'city/v1/airquality/aq-medeu-0009/errors', true],
    [device, 'city/v1/airquality/aq-medeu-0010/command', 'not_own_topic'],
    [device, 'city/v1/traffic/aq-medeu-0009/command', 'not_own_topic'],
    [device, 'city/v1/airquality/aq-medeu-0009/telemetry', 'not_own_topic'],
    [device, 'city/v1/alerts/#', 'wildcard'],
    [device, '#', 'wildcard'],
    [device, 'city/v1/airquality/aq-medeu-0009/+', 'wildcard'],
    [device, '$SYS/#', 'sys_topic'],
    [operator, 'city/v1/alerts/#', true],
    [operator, 'city/v1/alerts/high/+/+', true],
    [operator, 'city/v1/alerts/+/airquality/aq-medeu-0009', true],
    [operator, 'city/v1/+/+/status', true],
    [operator, 'city/v1/airquality/+/status', true],
    [operator, 'city/v1/airquality/aq-medeu-0009/status', true],
    [operator, 'city/v1/sewage/+/status', 'role_not_permitted'], // no such family
    [operator, 'city/v1/+/+/telemetry', 'role_not_permitted'],
    [operator, 'city/v1/+/+/+', 'role_not_permitted'], // would include telemetry
    [operator, 'city/v1/#', 'role_not_permitted'],
    [operator, '#', 'role_not_permitted'],
    [operator, '+/v1/alerts/#', 'role_not_permitted'],
    [operator, '$SYS/#', 'sys_topic'],
    [service, 'city/v1/alerts/#', 'role_not_permitted'],
    [service, 'city/v1/+/+/status', 'role_not_permitted'],
  ])('%j → %s: %s', (principal, filter, expected) => {
    expect(outcome(canSubscribe(principal, filter))).toBe(expected);
  });
});
