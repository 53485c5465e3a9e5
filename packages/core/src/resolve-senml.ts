/**
 * SenML JSON (RFC 8428) packs, resolved: base fields applied, times made absolute. The mapping of resolved records
 * to our readings is `senml-to-candidates.ts`; this file knows only the RFC.
 */

/** Every label RFC 8428 §4.2 defines (Table 1 and 2). A payload is SenML when its first record uses one. */
export const SENML_LABELS = ['bn', 'bt', 'bu', 'bv', 'bs', 'bver', 'n', 'u', 'v', 'vs', 'vb', 'vd', 's', 't', 'ut'] as const;
const LABELS: ReadonlySet<string> = new Set(SENML_LABELS);

/** The version of RFC 8428 (§4.4): a pack announcing a later one may use features we do not know. */
export const SENML_VERSION = 10;

/** §4.5.3: a time below 2**28 s is relative to the receiver's "now"; at or above it, seconds since the epoch. */
export const SENML_RELATIVE_TIME_LIMIT_S = 2 ** 28;

// §4.5.1: "must consist only of characters out of the set A-Z, a-z, 0-9, "-", ":", ".", "/", and "_"; furthermore,
// it must start with a character out of the set A-Z, a-z, or 0-9".
const NAME = /^[A-Za-z0-9][A-Za-z0-9\-:./_]*$/;

export interface SenmlRecord {
  /** Position of the record in the pack. */
  index: number;
  /** Base name + name. */
  name: string;
  /** Absolute time, epoch ms. */
  timeMs: number;
  /** The time was relative (§4.5.3), so it depends on when we received the pack. */
  relativeTime: boolean;
  unit?: string;
  /** `v` + `bv`. */
  value?: number;
  boolValue?: boolean;
  stringValue?: string;
  dataValue?: string;
  /** `s` + `bs`. */
  sum?: number;
}

export type SenmlResolution = { ok: true; records: SenmlRecord[] } | { ok: false; index: number; detail: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A JSON array whose first record carries a SenML label. Our own readings never do: no metric is named like one. */
export function looksLikeSenml(body: unknown): body is unknown[] {
  return Array.isArray(body) && isObject(body[0]) && Object.keys(body[0]).some((k) => LABELS.has(k));
}

const TYPES: Record<(typeof SENML_LABELS)[number], 'string' | 'number' | 'boolean'> = {
  bn: 'string', bt: 'number', bu: 'string', bv: 'number', bs: 'number', bver: 'number',
  n: 'string', u: 'string', v: 'number', vs: 'string', vb: 'boolean', vd: 'string', s: 'number', t: 'number', ut: 'number',
};

/**
 * Resolve a pack as §4.6 describes: base values apply to their record and every later one until replaced; the
 * resolved name is `bn + n`, the time `bt + t` (relative ones anchored at `receivedAtMs`), the unit `u` or `bu`,
 * the value `bv + v`, the sum `bs + s`. A pack that breaks the RFC is refused whole, naming the first bad record.
 *
 * Not refused: unknown labels without a trailing `_` (§4.4 lets receivers ignore them), and a record holding only
 * base fields, which some gateways send first to set them (it yields no record).
 */
export function resolveSenml(pack: readonly unknown[], receivedAtMs: number): SenmlResolution {
  const fail = (index: number, detail: string): SenmlResolution => ({ ok: false, index, detail: `SenML record ${index}: ${detail}` });
  let bn = '';
  let bt = 0;
  let bu: string | undefined;
  let bv = 0;
  let bs = 0;
  let version: number | undefined;
  const records: SenmlRecord[] = [];

  for (let index = 0; index < pack.length; index++) {
    const raw = pack[index];
    if (!isObject(raw)) return fail(index, 'is not a JSON object');
    for (const [label, value] of Object.entries(raw)) {
      if (LABELS.has(label)) {
        const type = TYPES[label as keyof typeof TYPES];
        // JSON has no NaN or Infinity, so a number here is finite.
        if (typeof value !== type) return fail(index, `"${label}" must be a ${type}`);
      } else if (label.endsWith('_')) {
        return fail(index, `label "${label}" must be understood (it ends in "_", RFC 8428 §4.4) and is not`);
      }
    }
    const r = raw;
    if (r.bver !== undefined) {
      const bver = r.bver as number;
      if (!Number.isInteger(bver) || bver < 1) return fail(index, '"bver" must be a positive integer');
      if (bver > SENML_VERSION) return fail(index, `"bver" ${bver} is newer than the version understood (${SENML_VERSION})`);
      if (version !== undefined && version !== bver) return fail(index, 'every record of a pack must have the same "bver"');
      version = bver;
    }
    if (r.bn !== undefined) bn = r.bn as string;
    if (r.bt !== undefined) bt = r.bt as number;
    if (r.bu !== undefined) bu = r.bu as string;
    if (r.bv !== undefined) bv = r.bv as number;
    if (r.bs !== undefined) bs = r.bs as number;

    const values = (['v', 'vs', 'vb', 'vd'] as const).filter((k) => r[k] !== undefined);
    const hasSum = r.s !== undefined;
    if (values.length === 0 && !hasSum && r.n === undefined && r.u === undefined && r.t === undefined) continue; // base fields only
    if (values.length > 1) return fail(index, `has ${values.map((k) => `"${k}"`).join(' and ')}: a record carries one value`);
    if (values.length === 0 && !hasSum) return fail(index, 'has neither a value ("v", "vs", "vb", "vd") nor a sum ("s")');

    const name = bn + ((r.n as string | undefined) ?? '');
    if (name === '') return fail(index, 'has no name (neither "bn" nor "n")');
    if (!NAME.test(name)) return fail(index, `name "${name}" has characters RFC 8428 §4.5.1 does not allow`);

    const seconds = bt + ((r.t as number | undefined) ?? 0);
    const relativeTime = seconds < SENML_RELATIVE_TIME_LIMIT_S;
    const timeMs = relativeTime ? receivedAtMs + Math.round(seconds * 1000) : Math.round(seconds * 1000);

    const record: SenmlRecord = { index, name, timeMs, relativeTime };
    const unit = (r.u as string | undefined) ?? bu;
    if (unit !== undefined && unit !== '') record.unit = unit;
    if (r.v !== undefined) record.value = bv + (r.v as number);
    if (r.vb !== undefined) record.boolValue = r.vb as boolean;
    if (r.vs !== undefined) record.stringValue = r.vs as string;
    if (r.vd !== undefined) record.dataValue = r.vd as string;
    if (hasSum) record.sum = bs + (r.s as number);
    records.push(record);
  }
  return { ok: true, records };
}

/** A resolved record as RFC 8428 §4.6 writes it (absolute time in seconds, no base fields): what a dead letter keeps. */
export function resolvedRecordJson(record: SenmlRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { n: record.name };
  if (record.unit !== undefined) out.u = record.unit;
  if (record.value !== undefined) out.v = record.value;
  if (record.boolValue !== undefined) out.vb = record.boolValue;
  if (record.stringValue !== undefined) out.vs = record.stringValue;
  if (record.dataValue !== undefined) out.vd = record.dataValue;
  if (record.sum !== undefined) out.s = record.sum;
  out.t = record.timeMs / 1000;
  return out;
}
