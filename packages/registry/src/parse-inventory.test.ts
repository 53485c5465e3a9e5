import { describe, expect, it } from 'vitest';
import { checkDeviceInput, formatInventoryError, inventoryFormatOf, parseInventory } from './parse-inventory.ts';

describe('parseInventory (CSV)', () => {
  it('reads every column, converts numbers and booleans, leaves empty cells out', () => {
    const csv = [
      'id,family,district,lat,lon,expectedIntervalMs,enabled',
      'aq-medeu-0001,airquality,medeu,43.2389,76.8897,60000,true',
      'trf-almaly-0002,traffic,,,,,',
      '"wtr-1",water,auezov,-1.5,2,1000,no',
    ].join('\n');
    expect(parseInventory(csv, 'csv')).toEqual({
      rows: [
        { location: 'line 2', device: { id: 'aq-medeu-0001', family: 'airquality', district: 'medeu', lat: 43.2389, lon: 76.8897, expectedIntervalMs: 60000, enabled: true } },
        { location: 'line 3', device: { id: 'trf-almaly-0002', family: 'traffic', enabled: true } },
        { location: 'line 4', device: { id: 'wtr-1', family: 'water', district: 'auezov', lat: -1.5, lon: 2, expectedIntervalMs: 1000, enabled: false } },
      ],
      errors: [],
    });
  });

  it('reports each bad row with its line, id, field and the value, and keeps the good rows', () => {
    const csv = [
      'id,family,district,lat,lon,expectedIntervalMs',
      'aq-1,airquality,medeu,95,76.9,60000', // lat out of range
      'aq-2,sewage,medeu,,,', // unknown family
      'aq 3,airquality,,,,', // bad id
      'aq-4,airquality,Medeu,43.2,,abc', // district, half a location, interval
      'aq-5,airquality', // short row
      'aq-6,airquality,,,,',
      'aq-6,traffic,,,,', // duplicate
    ].join('\n');
    const { rows, errors } = parseInventory(csv, 'csv');
    expect(rows.map((r) => r.device.id)).toEqual(['aq-6']);
    expect(errors.map(formatInventoryError)).toEqual([
      'line 2 (aq-1): lat: must be from -90 to 90 (got 95)',
      expect.stringMatching(/^line 3 \(aq-2\): family: must be one of traffic, airquality, .* \(got "sewage"\)$/) as unknown,
      'line 4 (aq 3): id: must be letters, digits, ".", "_" or "-", at most 64, starting with a letter or digit (got "aq 3")',
      'line 5 (aq-4): district: must be a lowercase slug (a-z, 0-9, "_", "-"; at most 48) (got "Medeu")',
      'line 5 (aq-4): expectedIntervalMs: must be a whole number of milliseconds (got "abc")',
      'line 5 (aq-4): lon: is required when the other coordinate is given',
      'line 6 (aq-5): has 2 fields, the header has 6',
      'line 8 (aq-6): id: duplicate id, first at line 7',
    ]);
  });

  it('refuses a header with unknown or missing columns, naming them', () => {
    expect(parseInventory('id,kind,colour\nx,y,z', 'csv')).toEqual({
      rows: [],
      errors: [{ location: 'line 1', message: 'unknown columns kind, colour; missing column family (columns: id, family, district, lat, lon, expectedIntervalMs, tags, enabled)' }],
    });
  });

  it('refuses an empty file and broken quoting as a whole', () => {
    expect(parseInventory('', 'csv').errors).toEqual([{ location: 'file', message: 'is empty; the first line must name the columns' }]);
    expect(parseInventory('id,family\n"aq-1,airquality\n', 'csv').errors[0]).toMatchObject({ location: 'file', message: expect.stringMatching(/^not valid CSV: Quote Not Closed/) as unknown });
  });

  it('skips blank lines and a byte-order mark, and counts lines as the file has them', () => {
    const { rows } = parseInventory('\uFEFFid,family\n\naq-1,airquality\n', 'csv');
    expect(rows).toEqual([{ location: 'line 3', device: { id: 'aq-1', family: 'airquality', enabled: true } }]);
  });
});

describe('parseInventory (JSON)', () => {
  it('takes an array of objects with typed values, and names items from 1', () => {
    const json = JSON.stringify([
      { id: 'elc-1', family: 'electricity', lat: 43.2, lon: 76.9 },
      { id: 'elc-2', family: 'electricity', lat: '43.2', lon: 76.9, colour: 'red' },
      'elc-3',
      { family: 'water' },
    ]);
    const { rows, errors } = parseInventory(json, 'json');
    expect(rows).toEqual([{ location: 'item 1', device: { id: 'elc-1', family: 'electricity', lat: 43.2, lon: 76.9, enabled: true } }]);
    expect(errors.map(formatInventoryError)).toEqual([
      'item 2 (elc-2): lat: must be a number from -90 to 90 (got "43.2")',
      'item 2 (elc-2): colour: unknown field (known: id, family, district, lat, lon, expectedIntervalMs, tags, enabled)',
      'item 3: must be an object',
      'item 4: id: is required',
    ]);
  });

  it('refuses a file that is not a JSON array', () => {
    expect(parseInventory('{"id": "x"}', 'json').errors).toEqual([{ location: 'file', message: 'must be a JSON array of devices' }]);
    expect(parseInventory('[{', 'json').errors[0]!.message).toMatch(/^not valid JSON: /);
  });
});

describe('checkDeviceInput', () => {
  it('uses the same rules for one device given field by field', () => {
    expect(checkDeviceInput({ id: 'aq-1', family: 'airquality', expectedIntervalMs: 500 })).toEqual({
      errors: [{ location: 'device', id: 'aq-1', field: 'expectedIntervalMs', message: 'must be at least 1000 ms (got 500)' }],
    });
    expect(checkDeviceInput({ id: 'aq-1', family: 'airquality' })).toEqual({ device: { id: 'aq-1', family: 'airquality', enabled: true } });
  });
});

describe('inventoryFormatOf', () => {
  it('knows .csv and .json, in any case', () => {
    expect(['a.csv', 'b.JSON', 'c.txt', 'csv'].map(inventoryFormatOf)).toEqual(['csv', 'json', undefined, undefined]);
  });
});

describe('device tags', () => {
  it('reads `key=value;key=value` cells and JSON objects, and names a malformed or invalid tag list', () => {
    const csv = ['id,family,tags', 'aq-1,airquality,site=school; owner=akimat', 'aq-2,airquality,site', 'aq-3,airquality,Site=school'].join('\n');
    const { rows, errors } = parseInventory(csv, 'csv');
    expect(rows.map((r) => [r.device.id, r.device.tags])).toEqual([['aq-1', { site: 'school', owner: 'akimat' }]]);
    expect(errors.map((e) => [e.id, e.field, e.message])).toEqual([
      ['aq-2', 'tags', 'must be key=value pairs (got "site")'],
      ['aq-3', 'tags.Site', expect.stringMatching(/^tag names are lowercase letters/)],
    ]);
    const json = parseInventory(JSON.stringify([{ id: 'aq-4', family: 'airquality', tags: { site: 'hospital' } }]), 'json');
    expect(json.rows[0]?.device.tags).toEqual({ site: 'hospital' });
  });
});
