import { DEVICE_ID_PATTERN, FAMILIES } from '@city/schema';
import { describe, expect, it } from 'vitest';
import { ALMATY_DISTRICTS, buildFleet } from './build-fleet.ts';

describe('buildFleet', () => {
  it('builds devicesPerFamily devices of every family, with ids the broker accepts', () => {
    const fleet = buildFleet({ devicesPerFamily: 12 });
    expect(fleet).toHaveLength(12 * FAMILIES.length);
    expect(new Set(fleet.map((d) => d.deviceId)).size).toBe(fleet.length);
    for (const d of fleet) {
      expect(d.deviceId).toMatch(DEVICE_ID_PATTERN);
      expect(d.deviceId).toMatch(/^(trf|aq|wtr|elc|nse|wx|gas|dh|prk)-[a-z]+-\d{4}$/);
      expect(d.deviceId).toContain(`-${d.district}-`);
      expect(ALMATY_DISTRICTS).toContain(d.district);
    }
    expect(fleet.filter((d) => d.family === 'airquality' && /^aq-[a-z]+-0007$/.test(d.deviceId))).toHaveLength(1);
  });

  it('spreads each family evenly over the districts', () => {
    const fleet = buildFleet({ devicesPerFamily: 16 });
    for (const family of FAMILIES) {
      const perDistrict = new Map<string, number>();
      for (const d of fleet.filter((x) => x.family === family))
        perDistrict.set(d.district, (perDistrict.get(d.district) ?? 0) + 1);
      expect([...perDistrict.values()]).toEqual(Array(8).fill(2));
    }
  });

  it('is deterministic for a seed', () => {
    expect(buildFleet({ seed: 9 })).toEqual(buildFleet({ seed: 9 }));
    expect(buildFleet({ seed: 9, devicesPerFamily: 3 })).not.toEqual(buildFleet({ seed: 10, devicesPerFamily: 3 }));
  });

  it('takes families and districts, e.g. Astana', () => {
    const fleet = buildFleet({ devicesPerFamily: 2, families: ['water'], districts: ['yesil', 'saryarka'] });
    expect(fleet.map((d) => d.deviceId).sort()).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^wtr-(yesil|saryarka)-0001$/),
        expect.stringMatching(/^wtr-(yesil|saryarka)-0002$/),
      ]),
    );
    expect(new Set(fleet.map((d) => d.district))).toEqual(new Set(['yesil', 'saryarka']));
  });

  it('rejects a fleet it cannot build', () => {
    expect(() => buildFleet({ districts: ['Almaly'] })).toThrow(RangeError);
    expect(() => buildFleet({ districts: [] })).toThrow(RangeError);
    expect(() => buildFleet({ devicesPerFamily: -1 })).toThrow(RangeError);
  });
});
