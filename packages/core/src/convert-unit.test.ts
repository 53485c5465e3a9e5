import { describe, expect, it } from 'vitest';
import { FAMILY_SPECS, type MetricSpec } from '@city/schema';
import { acceptedUnits, convertUnit } from './convert-unit.ts';

const metric = <F extends keyof typeof FAMILY_SPECS>(family: F, name: keyof (typeof FAMILY_SPECS)[F]['metrics']): [string, MetricSpec] => [
  name as string,
  (FAMILY_SPECS[family].metrics as Record<string, MetricSpec>)[name as string]!,
];

describe('convertUnit', () => {
  it.each([
    ['the metric’s own unit, untouched', metric('airquality', 'temperature'), 'Cel', -18.5, -18.5],
    ['kelvin to °C', metric('airquality', 'temperature'), 'K', 254.65, -18.5],
    ['%RH to a fraction', metric('airquality', 'relativeHumidity'), '%RH', 71, 0.71],
    ['% to a fraction', metric('traffic', 'occupancy'), '%', 31, 0.31],
    ['Wh to kWh, without float noise', metric('electricity', 'activeEnergyImport'), 'Wh', 0.1, 0.0001],
    ['MWh to kWh', metric('heating', 'thermalEnergy'), 'MWh', 1.8432105, 1843.2105],
    ['GJ to kWh', metric('heating', 'thermalEnergy'), 'GJ', 3.6, 1000],
    ['litres to m³', metric('water', 'waterConsumption'), 'l', 872_113, 872.113],
    ['l/s to L/h', metric('water', 'flow'), 'l/s', 0.5, 1800],
    ['m3/h to L/h', metric('water', 'flow'), 'm3/h', 0.41, 410],
    ['Pa to bar', metric('water', 'pressure'), 'Pa', 390_000, 3.9],
    ['mbar to bar', metric('gas', 'pressure'), 'mbar', 21, 0.021],
    ['Pa to hPa', metric('weather', 'atmosphericPressure'), 'Pa', 91_130, 911.3],
    ['m/s to km/h', metric('traffic', 'averageVehicleSpeed'), 'm/s', 10, 36],
    ['kW to W', metric('electricity', 'activePower'), 'kW', 5.32, 5320],
    ['mV to V', metric('electricity', 'voltageL1'), 'mV', 229_400, 229.4],
    ['Bspl to dB', metric('noise', 'LAeq'), 'Bspl', 6.78, 67.8],
    ['rad to degrees', metric('weather', 'windDirection'), 'rad', Math.PI, 180],
    ['ug/m3 to mg/m3', metric('airquality', 'co'), 'ug/m3', 1200, 1.2],
  ])('%s', (_name, [name, spec], unit, value, expected) => {
    expect(convertUnit(name, spec, value, unit)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['a unit of another quantity', metric('airquality', 'temperature'), 'Pa', 'unit "Pa" cannot be converted to °C for temperature; accepted: Cel, K'],
    ['a unit nobody defined', metric('water', 'flow'), 'gal/min', 'unit "gal/min" cannot be converted to L/h for flow; accepted: l/h, m3/s, l/s, m3/h, l/min'],
    ['%RH for anything but humidity', metric('traffic', 'occupancy'), '%RH', 'unit "%RH" cannot be converted to fraction 0..1 for occupancy; accepted: /, %, /100, /1000'],
    ['a case mistake (units are case-sensitive)', metric('electricity', 'activeEnergyImport'), 'kwh', 'unit "kwh" cannot be converted to kWh'],
    ['a unit for a boolean', metric('traffic', 'congested'), '/', 'congested has no unit; "/" cannot apply to it'],
  ])('refuses %s, naming the unit', (_name, [name, spec], unit, detail) => {
    const result = convertUnit(name, spec, 1, unit);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.detail).toContain(detail);
  });

  it('lists the metric’s own unit first, then the rest of its quantity and its extra units', () => {
    expect(acceptedUnits(metric('weather', 'relativeHumidity')[1])).toEqual(['/', '%', '/100', '/1000', '%RH']);
  });
});
