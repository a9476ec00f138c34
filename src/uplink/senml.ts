import { decode as cborDecode, encode as cborEncode } from 'cbor2';
import { z } from '#zod';

/**
 * A small RFC 8428 SenML codec (JSON and CBOR), no npm package exists for it. Encoding takes records
 * as they go on the wire (base fields on the first record); decoding validates every record with zod
 * and resolves base fields (RFC 8428 §4.6), naming the record and the field of every error.
 */

/** One SenML record as it appears in a pack (base fields optional). */
export interface SenmlRecord {
  bn?: string;
  bt?: number;
  bu?: string;
  bv?: number;
  bs?: number;
  bver?: number;
  n?: string;
  u?: string;
  v?: number;
  vs?: string;
  vb?: boolean;
  vd?: string;
  s?: number;
  t?: number;
  ut?: number;
}

export type SenmlPack = SenmlRecord[];

/** A resolved record (RFC 8428 §4.6): full name, absolute time in seconds, unit, exactly one value. */
export interface ResolvedRecord {
  readonly n: string;
  /** Absolute Unix time in seconds. */
  readonly t: number;
  readonly u?: string;
  readonly v?: number;
  readonly vs?: string;
  readonly vb?: boolean;
  readonly vd?: string;
  readonly s?: number;
}

/** CBOR labels (RFC 8428 §6, table 4). */
export const CBOR_LABELS: Readonly<Record<keyof SenmlRecord, number>> = {
  bver: -1,
  bn: -2,
  bt: -3,
  bu: -4,
  bv: -5,
  bs: -6,
  n: 0,
  u: 1,
  v: 2,
  vs: 3,
  vb: 4,
  s: 5,
  t: 6,
  ut: 7,
  vd: 8,
};
const LABEL_NAMES = new Map<number, keyof SenmlRecord>(Object.entries(CBOR_LABELS).map(([k, v]) => [v, k as keyof SenmlRecord]));

export const SENML_JSON = 'application/senml+json';
export const SENML_CBOR = 'application/senml+cbor';

/** RFC 8428 §4.5.1: the name's characters. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9:./_-]*$/;
/** RFC 8428 §4.5.3: times below 2^28 s are relative to now. */
export const RELATIVE_TIME_LIMIT = 2 ** 28;

const finite = z.number().refine(Number.isFinite, { error: 'must be a finite number' });
const recordSchema = z
  .object({
    bn: z.string().optional(),
    bt: finite.optional(),
    bu: z.string().optional(),
    bv: finite.optional(),
    bs: finite.optional(),
    bver: z.number().int().positive().optional(),
    n: z.string().optional(),
    u: z.string().optional(),
    v: finite.optional(),
    vs: z.string().optional(),
    vb: z.boolean().optional(),
    vd: z
      .string()
      .regex(/^[A-Za-z0-9_-]*$/, 'must be base64url without padding')
      .optional(),
    s: finite.optional(),
    t: finite.optional(),
    ut: finite.optional(),
  })
  .catchall(z.unknown());

export class SenmlError extends Error {
  constructor(
    readonly record: number,
    readonly field: string,
    message: string,
  ) {
    super(`SenML record ${record}, field ${field}: ${message}`);
  }
}

/** Validates a decoded pack and returns its records (base fields kept); throws SenmlError. */
export function validatePack(data: unknown): SenmlPack {
  if (!Array.isArray(data)) throw new SenmlError(0, '(pack)', 'a SenML pack is an array of records');
  if (data.length === 0) throw new SenmlError(0, '(pack)', 'the pack holds no record');
  return data.map((raw, i) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SenmlError(i, '(record)', 'a record is an object');
    const parsed = recordSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new SenmlError(i, issue?.path.join('.') || '(record)', issue?.message ?? 'invalid');
    }
    // Unknown fields are ignored unless they end in "_" (must-understand, RFC 8428 §4.4).
    const mustUnderstand = Object.keys(raw as object).find((k) => k.endsWith('_'));
    if (mustUnderstand !== undefined) throw new SenmlError(i, mustUnderstand, 'a must-understand field this codec does not know');
    const r: SenmlRecord = {};
    for (const key of Object.keys(CBOR_LABELS) as (keyof SenmlRecord)[]) {
      const v = parsed.data[key];
      if (v !== undefined) (r as Record<string, unknown>)[key] = v;
    }
    return r;
  });
}

/**
 * Resolves base fields (RFC 8428 §4.6): each record gets its full name, absolute time (relative times
 * against `nowS`), unit and value. Checks names and that each record has exactly one value or a sum.
 */
export function resolvePack(pack: SenmlPack, nowS: number): ResolvedRecord[] {
  let bn = '';
  let bt = 0;
  let bu: string | undefined;
  let bv: number | undefined;
  let bs: number | undefined;
  return pack.map((r, i) => {
    if (r.bn !== undefined) bn = r.bn;
    if (r.bt !== undefined) bt = r.bt;
    if (r.bu !== undefined) bu = r.bu;
    if (r.bv !== undefined) bv = r.bv;
    if (r.bs !== undefined) bs = r.bs;
    const n = bn + (r.n ?? '');
    if (n === '') throw new SenmlError(i, 'n', 'the name (bn + n) is empty');
    if (!NAME_PATTERN.test(n))
      throw new SenmlError(i, r.n === undefined ? 'bn' : 'n', `name "${n}" has characters RFC 8428 does not allow (first [A-Za-z0-9], then [A-Za-z0-9:./_-])`);
    const t0 = bt + (r.t ?? 0);
    const t = t0 < RELATIVE_TIME_LIMIT ? nowS + t0 : t0;
    const values = (['v', 'vs', 'vb', 'vd'] as const).filter((k) => r[k] !== undefined);
    if (values.length > 1) throw new SenmlError(i, values[1] ?? 'v', `a record carries one value; this one has ${values.join(', ')}`);
    const out: { -readonly [K in keyof ResolvedRecord]: ResolvedRecord[K] } = { n, t };
    const u = r.u ?? bu;
    if (u !== undefined) out.u = u;
    if (r.v !== undefined || (values.length === 0 && bv !== undefined && r.s === undefined)) out.v = (bv ?? 0) + (r.v ?? 0);
    else if (r.vs !== undefined) out.vs = r.vs;
    else if (r.vb !== undefined) out.vb = r.vb;
    else if (r.vd !== undefined) out.vd = r.vd;
    if (r.s !== undefined || (bs !== undefined && values.length === 0)) out.s = (bs ?? 0) + (r.s ?? 0);
    if (out.v === undefined && out.vs === undefined && out.vb === undefined && out.vd === undefined && out.s === undefined) {
      throw new SenmlError(i, 'v', 'the record has no value (v, vs, vb, vd) and no sum (s)');
    }
    return out;
  });
}

// --- JSON -----------------------------------------------------------------------------------------

export function encodeJson(pack: SenmlPack): string {
  return JSON.stringify(pack);
}

/** Parses and validates a SenML JSON pack; throws SenmlError naming the record and field. */
export function decodeJson(text: string | Buffer): SenmlPack {
  let data: unknown;
  try {
    data = JSON.parse(typeof text === 'string' ? text : text.toString('utf8'));
  } catch (e) {
    throw new SenmlError(0, '(pack)', `not JSON: ${(e as Error).message}`);
  }
  return validatePack(data);
}

// --- CBOR -----------------------------------------------------------------------------------------

/**
 * Non-integers go out as float32 when that keeps their 7 significant decimal digits (a meter's
 * float32 reading), else float64: cbor2 writes the shortest float that holds a value exactly, so a
 * value rounded to float32 here takes 5 bytes instead of 9.
 */
function compactFloat(v: unknown): unknown {
  if (typeof v !== 'number' || Number.isInteger(v) || !Number.isFinite(v)) return v;
  const f = Math.fround(v);
  return Number(f.toPrecision(7)) === v ? f : v;
}

/** CBOR with the integer labels of RFC 8428 §6 (media type application/senml+cbor). */
export function encodeCbor(pack: SenmlPack): Buffer {
  const records = pack.map((r) => {
    const m = new Map<number, unknown>();
    for (const [k, v] of Object.entries(r)) if (v !== undefined) m.set(CBOR_LABELS[k as keyof SenmlRecord], compactFloat(v));
    return m;
  });
  return Buffer.from(cborEncode(records));
}

/** Decodes and validates a SenML CBOR pack; unknown labels are kept under their number (and ignored). */
export function decodeCbor(bytes: Uint8Array): SenmlPack {
  let data: unknown;
  try {
    data = cborDecode(bytes, { preferMap: true });
  } catch (e) {
    throw new SenmlError(0, '(pack)', `not CBOR: ${(e as Error).message}`);
  }
  if (!Array.isArray(data)) throw new SenmlError(0, '(pack)', 'a SenML pack is an array of records');
  const records = data.map((m: unknown, i) => {
    if (!(m instanceof Map)) throw new SenmlError(i, '(record)', 'a record is a map');
    const o: Record<string, unknown> = {};
    for (const [k, v] of m as Map<unknown, unknown>) {
      const name = typeof k === 'number' ? LABEL_NAMES.get(k) : undefined;
      o[name ?? String(k)] = v;
    }
    return o;
  });
  return validatePack(records);
}
