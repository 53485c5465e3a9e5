import { z } from 'zod';
import { DEVICE_READING_SCHEMAS, EVENT_TIME_DEFAULTS, MAX_EVENT_TIME_MS, MIN_EVENT_TIME_MS } from './device-payload.ts';
import { FAMILIES, FAMILY_SPECS, metricsOf, type Family, type FamilySpec, type MetricSpec } from './families.ts';
import { REASON_CODES } from './reason-codes.ts';
import { REASON_DESCRIPTIONS } from './reason-descriptions.ts';
import { READING_FLAGS } from './reading.ts';
import { DEVICE_ID_PATTERN, TOPIC_ROOT } from './topic.ts';
import { UNITS, unitsOfQuantityOf, type UnitSymbol } from './units.ts';

/**
 * docs/contract.md and docs/device-reading.schema.json, rendered from the contract's sources: the zod reading
 * schemas (types and ranges come from their JSON Schema), FAMILY_SPECS (units, meaning, consistency, examples),
 * UNITS and the reason codes. Pure; `pnpm docs:contract` writes the files, and a test fails when they are stale.
 */

type JsonSchema = { type?: string | string[]; minimum?: number; maximum?: number; properties?: Record<string, JsonSchema> };

/** One JSON Schema (draft 2020-12) per family, for what a device may send as one reading. */
export function readingJsonSchemas(): Record<Family, Record<string, unknown>> {
  return Object.fromEntries(
    FAMILIES.map((family) => [family, z.toJSONSchema(DEVICE_READING_SCHEMAS[family], { io: 'input', unrepresentable: 'any' })]),
  ) as unknown as Record<Family, Record<string, unknown>>;
}

export function renderReadingJsonSchema(): string {
  const schemas = readingJsonSchemas();
  const defs = Object.fromEntries(FAMILIES.map((f) => [f, { ...schemas[f], $schema: undefined, description: FAMILY_SPECS[f].description }]));
  return `${JSON.stringify(
    {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      title: 'One reading a device publishes on city/v1/{family}/{deviceId}/telemetry, per family (generated: pnpm docs:contract)',
      description: 'Consistency rules between metrics and event-time windows are not expressible here: see docs/contract.md.',
      $defs: defs,
    },
    null,
    2,
  )}\n`;
}

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
const row = (cells: readonly string[]) => `| ${cells.map(cell).join(' | ')} |`;
const tableOf = (header: readonly string[], rows: ReadonlyArray<readonly string[]>) =>
  [row(header), row(header.map(() => '---')), ...rows.map(row)].join('\n');
const code = (s: string) => `\`${s}\``;
const json = (v: unknown) => JSON.stringify(v);
const duration = (ms: number) => (ms % 86_400_000 === 0 ? `${ms / 86_400_000} days` : ms % 60_000 === 0 ? `${ms / 60_000} min` : `${ms / 1000} s`);

function acceptedUnitsOf(spec: MetricSpec): UnitSymbol[] {
  return spec.unitSymbol === undefined ? [] : [...unitsOfQuantityOf(spec.unitSymbol), ...(spec.extraUnits ?? [])];
}

function rangeOf(schema: JsonSchema | undefined): string {
  if (schema?.type === 'boolean') return 'true / false';
  const lo = schema?.minimum;
  const hi = schema?.maximum;
  return lo === undefined && hi === undefined ? '—' : `${lo ?? '−∞'} … ${hi ?? '∞'}`;
}

function familySection(family: Family, jsonSchema: JsonSchema): string {
  const spec: FamilySpec = FAMILY_SPECS[family];
  const props = jsonSchema.properties ?? {};
  const rows = Object.entries(metricsOf(family)).map(([name, m]) => {
    const schema = props[name];
    const type = m.cumulative ? `${String(schema?.type)}, cumulative` : String(schema?.type);
    const units = acceptedUnitsOf(m);
    return [
      code(name),
      type,
      m.unit,
      m.unitSymbol === undefined ? '—' : code(m.unitSymbol),
      units.length > 1 ? units.slice(1).map(code).join(' ') : '—',
      rangeOf(schema),
      m.dataModelAttribute === undefined ? m.description : `${m.description} (${spec.dataModelSource}: ${code(m.dataModelAttribute)})`,
    ];
  });
  const parts = [
    `### ${code(family)} — ${spec.dataModel}${spec.dataModelSource === 'ours' ? '' : ' (FIWARE)'}`,
    '',
    spec.description,
    '',
    `Topic ${code(`${TOPIC_ROOT}/${family}/{deviceId}/telemetry`)}, InfluxDB measurement ${code(spec.measurement)}.`,
    '',
    tableOf(['metric', 'type', 'unit', 'SenML unit (stored)', 'also accepted in SenML (converted)', 'plausible range', 'meaning'], rows),
  ];
  if (spec.consistency?.length) {
    parts.push('', 'Consistency (rejected as `inconsistent_metrics` when every metric named is in the reading):', '');
    for (const rule of spec.consistency) {
      parts.push(`- ${rule.left.map(code).join(' + ')} ≤ ${code(rule.right)}${rule.tolerance ? ` + ${rule.tolerance}` : ''}: ${rule.why}`);
    }
  }
  parts.push('', 'Example:', '', '```json', json(spec.example), '```');
  return parts.join('\n');
}

export function renderContractDoc(): string {
  const schemas = readingJsonSchemas() as Record<Family, JsonSchema>;
  const senmlExample = [
    { bn: 'urn:dev:mac:0024befffe804ff1:', bt: 1768464000, bu: 'ug/m3', n: 'pm25', v: 41.5 },
    { n: 'pm10', v: 60 },
    { n: 'temperature', u: 'K', v: 254.65 },
    { n: 'relativeHumidity', u: '%RH', v: 71 },
    { n: 'pm25', t: 60, v: 43 },
  ];
  const meterExample = [{ bt: 1768464000, n: 'activeEnergyImport', u: 'Wh', s: 1234567 }, { n: 'voltageL1', u: 'V', v: 229.4 }];
  const relativeExample = [{ n: 'occupancy', u: '%', v: 68, t: -60 }, { n: 'occupancy', u: '%', v: 71 }];

  const unitRows = (Object.keys(UNITS) as UnitSymbol[]).map((symbol) => [code(symbol), UNITS[symbol].quantity, UNITS[symbol].name, UNITS[symbol].source]);
  const reasonRows = REASON_CODES.map((reason) => [code(reason), REASON_DESCRIPTIONS[reason] ?? '(undocumented)']);

  return `<!-- Generated by \`pnpm docs:contract\` from packages/schema (the zod reading schemas, FAMILY_SPECS, UNITS, REASON_CODES). Do not edit: a test fails when this file is stale. -->

# The device contract (v1)

What a device publishes, what the city stores, and why a payload is rejected. Machine-readable: [device-reading.schema.json](device-reading.schema.json)
(one JSON Schema per family; it cannot express the consistency rules and time windows below).

## Topics

${tableOf(
  ['topic', 'who', 'what'],
  [
    [code(`${TOPIC_ROOT}/{family}/{deviceId}/telemetry`), 'the device publishes (QoS 0 or 1)', 'readings: one, a batch, or a SenML pack'],
    [code(`${TOPIC_ROOT}/{family}/{deviceId}/errors`), 'only that device subscribes', 'why a payload of its was rejected (below)'],
    [code(`${TOPIC_ROOT}/alerts/{severity}/{family}/{deviceId}`), 'operators subscribe', 'alerts'],
  ],
)}

\`{family}\` is one of ${FAMILIES.map(code).join(', ')}. \`{deviceId}\`: ${code(DEVICE_ID_PATTERN.source)} (letters, digits, \`.\`, \`_\`, \`-\`, at most 64).

## Payloads

UTF-8 JSON, at most \`MAX_PAYLOAD_BYTES\` (256 KiB by default), in one of three shapes, told apart by content:

1. **One reading**: a JSON object, \`{ "ts"?, "district"?, ...metrics }\`.

   \`\`\`json
   ${json(FAMILY_SPECS.airquality.example)}
   \`\`\`

2. **A batch**: a JSON array of readings, at most \`MAX_READINGS_PER_MESSAGE\` (1000). Every reading needs its own \`ts\`
   (readings of one message share a receive time and would overwrite each other). Each is judged on its own: the valid
   ones are stored, each invalid one is rejected with its \`index\`.

   \`\`\`json
   ${json([{ ts: 1768464000000, intensity: 42, occupancy: 0.31 }, { ts: 1768464060000, intensity: 55, occupancy: 0.42 }])}
   \`\`\`

3. **A SenML pack** ([RFC 8428](https://www.rfc-editor.org/rfc/rfc8428) JSON): a JSON array whose first record has a
   SenML label (\`bn\`, \`bt\`, \`bu\`, \`bv\`, \`bs\`, \`bver\`, \`n\`, \`u\`, \`v\`, \`vs\`, \`vb\`, \`vd\`, \`s\`, \`t\`, \`ut\`). No metric is named like
   a label, so a batch of readings is never mistaken for one.

   \`\`\`json
   ${json(senmlExample)}
   \`\`\`

   is two readings: at 2026-01-15T08:00:00Z \`{"pm25": 41.5, "pm10": 60, "temperature": -18.5, "relativeHumidity": 0.71}\`, and
   one minute later \`{"pm25": 43}\`. How a pack becomes readings:

   - Records are resolved as RFC 8428 §4.6 says: base fields apply to their record and every later one until replaced;
     name = \`bn\` + \`n\`; time = \`bt\` + \`t\`; unit = \`u\`, else \`bu\`; value = \`bv\` + \`v\`; sum = \`bs\` + \`s\`.
   - **Metric** = the resolved name after its last \`:\` or \`/\` (\`urn:dev:mac:0024befffe804ff1:pm25\` → \`pm25\`). The
     prefix is the sender's naming and is ignored: the topic names the device.
   - **Time**: seconds. At or above 2^28 it is absolute (epoch seconds); below, relative to the receive time (\`0\` or
     absent: "now"; \`-60\`: a minute before). Records with the same resolved time form **one reading**; each distinct time
     is a reading of its own, judged on its own. One metric twice at one time is rejected (\`invalid_senml\`).
   - **Values**: \`v\` for numbers, \`vb\` for booleans (\`congested\`, \`occupied\`); \`s\` (sum) is accepted for cumulative
     metrics (meter counters) when there is no \`v\`. \`vs\`/\`vd\` are refused (\`invalid_type\`).
   - **Units**: a record without a unit is in the metric's stored unit. A unit of the metric's quantity is converted
     (below); any other is refused (\`unsupported_unit\`, naming the unit and what is accepted). Units on \`vb\` are ignored.
   - A pack that breaks RFC 8428 is refused whole (\`invalid_senml\`, with the record's \`index\`): a label of the wrong
     type, two values in one record, no value and no sum, no name, a name with characters §4.5.1 forbids, \`bver\` above
     10, a label ending in \`_\` (must-understand, §4.4). Other unknown labels are ignored (§4.4). A record with base
     fields only sets them (some gateways send one first).
   - A rejected reading's dead letter keeps its records resolved (absolute times, no base fields): it replays as a pack.

   A meter's counter as a sum, and a relative time:

   \`\`\`json
   ${json(meterExample)}
   ${json(relativeExample)}
   \`\`\`

### Fields of a reading

- \`ts\`: the event time, epoch **milliseconds** or ISO 8601 with a zone (\`2026-01-15T08:00:00Z\`), between
  ${new Date(MIN_EVENT_TIME_MS).toISOString().slice(0, 10)} and ${new Date(MAX_EVENT_TIME_MS).toISOString().slice(0, 10)} (so epoch seconds are caught). Without it, the broker's receive time is used.
- \`district\` (optional): a lowercase slug, stored as a tag.
- The family's metrics (below), at least one. Any other field is rejected (\`unknown_field\`): a typo is reported, not lost.

### Event time

Judged against the receive time, after the reading passed its schema:

${tableOf(
  ['event time', 'outcome', 'setting (broker env)', 'default'],
  [
    ['more than the limit ahead', 'rejected, `timestamp_in_future`', '`EVENT_TIME_MAX_FUTURE_MS`', duration(EVENT_TIME_DEFAULTS.maxFutureMs)],
    ['older than the limit', 'rejected, `timestamp_too_old`', '`EVENT_TIME_MAX_AGE_MS`', duration(EVENT_TIME_DEFAULTS.maxAgeMs)],
    ['older than the late threshold, within the limit', 'stored with the field `late=true`', '`EVENT_TIME_LATE_AFTER_MS`', duration(EVENT_TIME_DEFAULTS.lateAfterMs)],
  ],
)}

### Resends

A reading is identified by device, family and event time: stored again, it overwrites the same point. With \`ts\` a resend
is therefore harmless. Without it (or with a relative SenML time) the event time is the receive time, which a resend
would change: the broker recognises a QoS 1 message resent after a reconnect (same client, same packet id, identical
payload, on a later connection, within \`RESEND_WINDOW_MS\`) and gives it its first receive time. The DUP flag is not
relied on: mqtt.js resends without it.

## Families

${FAMILIES.map((family) => familySection(family, schemas[family])).join('\n\n')}

## Units

Symbols of the SenML units registry (RFC 8428 §12.1, RFC 8798) and a few of ours that meters commonly report in. Case
matters (\`kWh\`, not \`kwh\`). A value is converted only within one quantity; results are rounded to 15 significant digits.

${tableOf(['symbol', 'quantity', 'name', 'defined by'], unitRows)}

## What is stored

One point per reading in the family's measurement: tags \`device\`, \`family\`, \`district\` (when known); one field per metric
(numbers as floats, booleans as booleans); the event time in ms. Fields the pipeline adds (${READING_FLAGS.map(code).join(', ')}), only when true:

- \`late=true\`: the event time was older than \`EVENT_TIME_LATE_AFTER_MS\` when received.
- \`counterReset=true\`: a cumulative metric (marked "cumulative" above) was lower than the device's previous reading in
  event time (a meter reset, replacement or register rollover). The value is stored as sent; a consumption computed
  across this point must start afresh from it (InfluxQL \`NON_NEGATIVE_DIFFERENCE\`), so no negative consumption appears.

## Rejects

A rejected payload (or reading of a batch or pack) is acknowledged (a device must not resend what can never be valid),
counted in \`city_broker_readings_rejected_total{reason}\`, kept in the dead-letter stream with its reason, detail, topic,
client id, receive time and payload (first 4 KiB), and reported to the device on its error topic:

\`\`\`json
${json({ reason: 'out_of_range', detail: 'pm25 is above the maximum 2000 µg/m³', index: 1, topic: `${TOPIC_ROOT}/airquality/aq-medeu-0001/telemetry`, at: '2026-01-15T08:00:00.000Z' })}
\`\`\`

(QoS 1; \`index\` only for a reading of a batch or pack; at most 10 messages per PUBLISH, the last counting the rest.)
\`pnpm city dead-letters list\` shows recent rejects by reason and device; \`pnpm city dead-letters replay\` judges entries
again with the contract in force and stores what is now valid, once.

Reason codes (append-only: never renamed or reused):

${tableOf(['reason', 'when'], reasonRows)}
`;
}
