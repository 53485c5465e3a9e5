import { parse as parseCsv, CsvError } from 'csv-parse/sync';
import type { z } from 'zod';
import { DeviceInputSchema, type DeviceInput } from './device-input.ts';

export type InventoryFormat = 'csv' | 'json';

/** One problem in an inventory file: where (`line 4` in a CSV, `item 3` in a JSON array), which device and field. */
export interface InventoryError {
  location: string;
  id?: string;
  field?: string;
  message: string;
}

export interface InventoryRow {
  location: string;
  device: DeviceInput;
}

export interface ParsedInventory {
  /** The rows that passed every check, in file order. */
  rows: InventoryRow[];
  /** Every problem found, in file order. A problem with the whole file has location `file`. */
  errors: InventoryError[];
}

/** The columns of a CSV inventory (and keys of a JSON one). `id` and `family` are required. */
export const INVENTORY_COLUMNS = ['id', 'family', 'district', 'lat', 'lon', 'expectedIntervalMs', 'tags', 'enabled'] as const;
const NUMERIC = new Set(['lat', 'lon', 'expectedIntervalMs']);
const BOOLEANS: Record<string, boolean> = { true: true, yes: true, '1': true, false: false, no: false, '0': false };

/** `.csv` or `.json`, from a file name; undefined for anything else. */
export function inventoryFormatOf(fileName: string): InventoryFormat | undefined {
  const ext = /\.([A-Za-z]+)$/.exec(fileName)?.[1]?.toLowerCase();
  return ext === 'csv' || ext === 'json' ? ext : undefined;
}

function describeValue(value: unknown): string {
  return value === undefined ? '' : ` (got ${JSON.stringify(value)})`;
}

/** Validates one row; every field problem becomes an error naming the row and the field. */
function checkRow(location: string, raw: Record<string, unknown>): { device?: DeviceInput; errors: InventoryError[] } {
  const parsed = DeviceInputSchema.safeParse(raw);
  if (parsed.success) return { device: parsed.data, errors: [] };
  const id = typeof raw.id === 'string' && raw.id !== '' ? raw.id : undefined;
  const errors = parsed.error.issues.flatMap((issue: z.core.$ZodIssue): InventoryError[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ location, ...(id ? { id } : {}), field: key, message: `unknown field (known: ${INVENTORY_COLUMNS.join(', ')})` }));
    }
    const field = issue.path.map(String).join('.');
    return [{ location, ...(id ? { id } : {}), ...(field ? { field } : {}), message: `${issue.message}${describeValue(raw[field])}` }];
  });
  return { errors };
}

/** `key=value;key=value` (a CSV cell, a CLI flag) as an object; undefined when it is not that shape. */
export function parseTagList(text: string): Record<string, string> | undefined {
  const tags: Record<string, string> = {};
  for (const pair of text.split(';')) {
    const match = /^\s*([^=]+?)\s*=\s*(.*?)\s*$/.exec(pair);
    if (!match) return undefined;
    tags[match[1]!] = match[2]!;
  }
  return tags;
}

/** A CSV cell as the schema expects it: empty → absent, numbers and booleans converted when they read as such. */
function cellValue(column: string, cell: string): unknown {
  if (cell === '') return undefined;
  if (NUMERIC.has(column)) return /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(cell) ? Number(cell) : cell;
  if (column === 'enabled') return BOOLEANS[cell.toLowerCase()] ?? cell;
  if (column === 'tags') return parseTagList(cell) ?? cell;
  return cell;
}

function parseCsvRows(text: string): Array<{ location: string; raw: Record<string, unknown> } | InventoryError> | InventoryError {
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parseCsv(text, { info: true, relax_column_count: true, skip_empty_lines: true, trim: true, bom: true }) as unknown as typeof records;
  } catch (err) {
    if (err instanceof CsvError) return { location: 'file', message: `not valid CSV: ${err.message}` };
    throw err;
  }
  const [header, ...body] = records;
  if (!header) return { location: 'file', message: 'is empty; the first line must name the columns' };
  const columns = header.record;
  const unknown = columns.filter((c) => !(INVENTORY_COLUMNS as readonly string[]).includes(c));
  const missing = ['id', 'family'].filter((c) => !columns.includes(c));
  if (unknown.length > 0 || missing.length > 0) {
    const problems = [
      ...(unknown.length > 0 ? [`unknown column${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`] : []),
      ...(missing.length > 0 ? [`missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`] : []),
    ];
    return { location: 'line 1', message: `${problems.join('; ')} (columns: ${INVENTORY_COLUMNS.join(', ')})` };
  }
  return body.map(({ record, info }) => {
    const location = `line ${info.lines}`;
    if (record.length !== columns.length) {
      return { location, ...(record[0] ? { id: record[0] } : {}), message: `has ${record.length} fields, the header has ${columns.length}` };
    }
    const raw: Record<string, unknown> = {};
    columns.forEach((column, i) => {
      const value = cellValue(column, record[i]!);
      if (value !== undefined) raw[column] = value;
    });
    return { location, raw };
  });
}

function parseJsonRows(text: string): Array<{ location: string; raw: Record<string, unknown> } | InventoryError> | InventoryError {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { location: 'file', message: `not valid JSON: ${(err as Error).message}` };
  }
  if (!Array.isArray(data)) return { location: 'file', message: 'must be a JSON array of devices' };
  return data.map((item: unknown, i) => {
    const location = `item ${i + 1}`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return { location, message: 'must be an object' };
    return { location, raw: item as Record<string, unknown> };
  });
}

/**
 * A city's inventory file, checked row by row. A bad row never stops the others: it is reported with its line
 * (CSV) or item number (JSON), the device id when it has one, the field and the rule; the good rows are returned
 * for import. A device id that appears twice is reported at its second appearance.
 * Pure: the caller reads the file.
 */
export function parseInventory(text: string, format: InventoryFormat): ParsedInventory {
  const parsed = format === 'csv' ? parseCsvRows(text) : parseJsonRows(text);
  if (!Array.isArray(parsed)) return { rows: [], errors: [parsed] };
  const rows: InventoryRow[] = [];
  const errors: InventoryError[] = [];
  const seen = new Map<string, string>();
  for (const entry of parsed) {
    if (!('raw' in entry)) {
      errors.push(entry);
      continue;
    }
    const checked = checkRow(entry.location, entry.raw);
    errors.push(...checked.errors);
    if (!checked.device) continue;
    const first = seen.get(checked.device.id);
    if (first !== undefined) {
      errors.push({ location: entry.location, id: checked.device.id, field: 'id', message: `duplicate id, first at ${first}` });
      continue;
    }
    seen.set(checked.device.id, entry.location);
    rows.push({ location: entry.location, device: checked.device });
  }
  return { rows, errors };
}

/** `line 4 (aq-1): lat: must be from -90 to 90 (got 95)` */
export function formatInventoryError(error: InventoryError): string {
  return `${error.location}${error.id ? ` (${error.id})` : ''}: ${error.field ? `${error.field}: ` : ''}${error.message}`;
}

/** Checks one device given field by field (CLI flags, an API body) with the same rules and messages as a file row. */
export function checkDeviceInput(raw: Record<string, unknown>): { device: DeviceInput } | { errors: InventoryError[] } {
  const checked = checkRow('device', raw);
  return checked.device ? { device: checked.device } : { errors: checked.errors };
}
