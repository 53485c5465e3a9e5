import { metricsOf, type Family, type ReasonCode } from '@city/schema';
import { convertUnit } from './convert-unit.ts';
import type { SenmlRecord } from './resolve-senml.ts';

/** One reading assembled from the records of a pack that share a resolved time. */
export interface SenmlCandidate {
  /** Position of the group's first record in the pack (or of the record that spoiled it). */
  index: number;
  /** `{ ts, metric: value, ... }` in the metrics' own units, for the family's reading schema. */
  reading: Record<string, unknown>;
  /** Some record's time was relative, so `ts` comes from the receive time. */
  relativeTime: boolean;
  /** The group's records, resolved (RFC 8428 §4.6), for a dead letter: a replay reads them as a SenML pack. */
  resolved: SenmlRecord[];
  /** Why the group cannot become a reading; the schema is not asked then. */
  error?: { reason: ReasonCode; detail: string; index: number };
}

/**
 * The metric a SenML name stands for: what follows its last `:` or `/`. What precedes it (a device URN in `bn`,
 * `urn:dev:mac:0024befffe804ff1:`) is the sender's naming and is ignored: the topic names the device.
 */
export function metricOfSenmlName(name: string): string {
  return name.slice(Math.max(name.lastIndexOf(':'), name.lastIndexOf('/')) + 1);
}

/**
 * Group resolved records by time, one reading per distinct time (records that share a time are measurements of one
 * moment: a station's pm25 and pm10 of 08:00), and turn each record into a metric value in the metric's unit.
 * A record that cannot become a metric spoils its group only: the other times of the pack are judged on their own,
 * as the readings of a batch array are.
 */
export function senmlToCandidates(records: readonly SenmlRecord[], family: Family): SenmlCandidate[] {
  const metrics = metricsOf(family);
  const groups = new Map<number, SenmlCandidate>();
  for (const record of records) {
    let group = groups.get(record.timeMs);
    if (group === undefined) {
      group = { index: record.index, reading: { ts: record.timeMs }, relativeTime: false, resolved: [] };
      groups.set(record.timeMs, group);
    }
    group.resolved.push(record);
    group.relativeTime ||= record.relativeTime;
    if (group.error !== undefined) continue;
    const spoil = (reason: ReasonCode, detail: string) => {
      group.error = { reason, detail, index: record.index };
      group.index = record.index;
    };

    const metric = metricOfSenmlName(record.name);
    const spec = Object.hasOwn(metrics, metric) ? metrics[metric] : undefined;
    if (spec === undefined) {
      spoil('unknown_field', `unknown field(s) "${metric}" (SenML name "${record.name}"); a ${family} reading has: ${Object.keys(metrics).join(', ')}`);
      continue;
    }
    if (Object.hasOwn(group.reading, metric)) {
      spoil('invalid_senml', `${metric} appears twice at ${new Date(record.timeMs).toISOString()} (SenML record ${record.index})`);
      continue;
    }
    let value: unknown;
    if (record.boolValue !== undefined) {
      // A unit says nothing about a boolean; a base unit set for the pack's numbers must not spoil it.
      value = record.boolValue;
    } else if (record.value !== undefined || record.sum !== undefined) {
      if (record.value === undefined && spec.cumulative !== true) {
        spoil('invalid_senml', `${metric}: a sum ("s") is accepted only for a cumulative metric; send its value as "v"`);
        continue;
      }
      const number = (record.value ?? record.sum) as number;
      if (spec.kind === 'boolean') {
        value = number; // the schema explains: "… must be true or false"
      } else if (record.unit === undefined) {
        value = number;
      } else {
        const converted = convertUnit(metric, spec, number, record.unit);
        if (!converted.ok) {
          spoil('unsupported_unit', converted.detail);
          continue;
        }
        value = converted.value;
      }
    } else {
      spoil('invalid_type', `${metric}: a SenML ${record.stringValue !== undefined ? 'string ("vs")' : 'data ("vd")'} value; ${metric} is ${spec.kind === 'boolean' ? 'a boolean ("vb")' : `a number in ${spec.unit} ("v")`}`);
      continue;
    }
    group.reading[metric] = value;
  }
  return [...groups.values()];
}
