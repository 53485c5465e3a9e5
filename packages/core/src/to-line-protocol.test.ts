import { describe, expect, it } from 'vitest';
import { toLineProtocol } from './to-line-protocol.ts';

describe('toLineProtocol', () => {
  it('writes measurement per family, device/family/district tags, float fields and the event time in ms', () => {
    expect(
      toLineProtocol({ family: 'airquality', deviceId: 'aq-1', district: 'medeu', ts: 1768464000000, receivedAt: 1768464000500, metrics: { pm25: 41.5, pm10: 60 } }),
    ).toBe('airquality,device=aq-1,family=airquality,district=medeu pm25=41.5,pm10=60 1768464000000');
  });

  it('writes booleans as booleans and leaves out the district when unknown', () => {
    expect(toLineProtocol({ family: 'traffic', deviceId: 't.1', ts: 1, receivedAt: 1, metrics: { intensity: 7, congested: true } })).toBe(
      'traffic,device=t.1,family=traffic intensity=7,congested=true 1',
    );
  });

  it('never writes an integer field, so later fractional values cannot conflict', () => {
    const line = toLineProtocol({ family: 'water', deviceId: 'w-1', ts: 1, receivedAt: 1, metrics: { waterConsumption: 12 } });
    expect(line).not.toMatch(/\d+i\b/);
  });
});

describe('toLineProtocol flags', () => {
  it('writes late and counterReset as boolean fields beside the metrics, only when set', () => {
    const base = { family: 'water' as const, deviceId: 'w-1', ts: 5, receivedAt: 9, metrics: { waterConsumption: 3 } };
    expect(toLineProtocol({ ...base, late: true, counterReset: true })).toBe('water,device=w-1,family=water waterConsumption=3,late=true,counterReset=true 5');
    expect(toLineProtocol(base)).toBe('water,device=w-1,family=water waterConsumption=3 5');
  });
});
