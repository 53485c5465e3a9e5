import { UNITS, isUnitSymbol, unitsOfQuantityOf, type MetricSpec, type UnitSymbol } from '@city/schema';

export type UnitConversion = { ok: true; value: number } | { ok: false; detail: string };

/** The unit symbols a metric's value may be sent in, its own first. */
export function acceptedUnits(spec: MetricSpec): UnitSymbol[] {
  if (spec.unitSymbol === undefined) return [];
  return [...unitsOfQuantityOf(spec.unitSymbol), ...(spec.extraUnits ?? [])];
}

/**
 * `value`, sent in `unit`, in the unit the metric is stored in. Only linear conversions within one quantity are
 * made (`Wh`→`kWh`, `K`→`°C`, `%RH`→fraction): a unit of another quantity is a different measurement, not a
 * different spelling, and is refused with the units that would be accepted.
 *
 * Results are rounded to 15 significant digits: `0.1 Wh` is `0.0001 kWh`, not `0.00010000000000000002`.
 */
export function convertUnit(metric: string, spec: MetricSpec, value: number, unit: string): UnitConversion {
  const target = spec.unitSymbol;
  if (target === undefined) return { ok: false, detail: `${metric} has no unit; "${unit}" cannot apply to it` };
  if (unit === target) return { ok: true, value };
  const convertible = isUnitSymbol(unit) && (UNITS[unit].quantity === UNITS[target].quantity || (spec.extraUnits?.includes(unit) ?? false));
  if (!convertible) {
    return { ok: false, detail: `unit "${unit}" cannot be converted to ${spec.unit} for ${metric}; accepted: ${acceptedUnits(spec).join(', ')}` };
  }
  const from: { scale: number; offset?: number } = UNITS[unit];
  const to: { scale: number; offset?: number } = UNITS[target];
  const reference = value * from.scale + (from.offset ?? 0);
  const converted = (reference - (to.offset ?? 0)) / to.scale;
  return { ok: true, value: Number(converted.toPrecision(15)) };
}
