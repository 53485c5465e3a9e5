import { describe, expect, it } from 'vitest';
import { FAMILIES, FAMILY_SPECS, cumulativeMetricsOf, metricsOf, type FamilySpec } from './families.ts';
import { READING_FLAGS } from './reading.ts';
import { UNITS, unitsOfQuantityOf } from './units.ts';

// Labels of RFC 8428: a metric named like one would make a batch array look like a SenML pack.
const SENML_LABELS = ['bn', 'bt', 'bu', 'bv', 'bs', 'bver', 'n', 'u', 'v', 'vs', 'vb', 'vd', 's', 't', 'ut'];

describe('FAMILY_SPECS', () => {
  const all = FAMILIES.flatMap((family) => Object.entries(metricsOf(family)).map(([name, spec]) => ({ family, name, spec })));

  it('keeps the families and metrics devices already use', () => {
    expect(FAMILIES.slice(0, 2)).toEqual(['traffic', 'airquality']);
    expect(FAMILIES).toEqual(expect.arrayContaining(['traffic', 'airquality', 'water', 'electricity', 'noise', 'weather', 'gas', 'heating', 'parking']));
    expect(Object.keys(metricsOf('electricity'))).toEqual(expect.arrayContaining(['activeEnergyImport', 'voltage', 'current', 'activePower', 'frequency', 'powerFactor']));
    expect(Object.keys(metricsOf('water'))).toEqual(expect.arrayContaining(['waterConsumption', 'flow', 'pressure']));
  });

  it('names no metric like a SenML label, a reading field, or a flag the storage writes', () => {
    const reserved = new Set([...SENML_LABELS, ...READING_FLAGS, 'ts', 'district']);
    expect(all.filter(({ name }) => reserved.has(name)).map(({ family, name }) => `${family}.${name}`)).toEqual([]);
  });

  it('gives every number a unit symbol, bounds and a valid range; booleans neither', () => {
    for (const { family, name, spec } of all) {
      const where = `${family}.${name}`;
      if (spec.kind === 'boolean') {
        expect(spec.unitSymbol, where).toBeUndefined();
        continue;
      }
      expect(spec.unitSymbol !== undefined && Object.hasOwn(UNITS, spec.unitSymbol), where).toBe(true);
      expect(spec.min! < spec.max!, where).toBe(true);
    }
  });

  it('lets extra units only where they share the reference of the metric’s unit (a fraction)', () => {
    for (const { family, name, spec } of all.filter(({ spec }) => spec.extraUnits)) {
      expect(UNITS[spec.unitSymbol!].quantity, `${family}.${name}`).toBe('fraction');
    }
    expect(unitsOfQuantityOf('kWh')).toEqual(['kWh', 'J', 'Wh', 'MWh', 'GJ']);
  });

  it('marks the meter counters as cumulative', () => {
    expect(Object.fromEntries(FAMILIES.map((f) => [f, cumulativeMetricsOf(f)]))).toEqual({
      traffic: [], airquality: [], noise: [], weather: [], parking: [],
      water: ['waterConsumption'],
      electricity: ['activeEnergyImport', 'activeEnergyExport'],
      gas: ['gasConsumption'],
      heating: ['thermalEnergy', 'volume'],
    });
  });

  it('writes consistency rules over metrics of their own family', () => {
    for (const family of FAMILIES) {
      for (const rule of (FAMILY_SPECS[family] as FamilySpec).consistency ?? []) {
        for (const name of [...rule.left, rule.right]) expect(Object.hasOwn(metricsOf(family), name), `${family}: ${name}`).toBe(true);
      }
    }
  });
});
