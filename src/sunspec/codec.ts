import { fixedSize, type GroupDef, type ModelDef, type PointDef, type PointType } from './model-schema.js';

/**
 * Register codec for SunSpec points (SunSpec Information Model Specification; sentinels as in
 * pysunspec2 `mb.py`): a point that holds its type's "not implemented" value decodes to null, and a
 * point with a scale factor is `raw × 10^SF`, the SF being a `sunssf` point named in `sf`, found in the
 * point's own group or an enclosing one. A scaled point whose SF is not implemented is null too.
 */

export type RawValue = number | string | null;

export interface DecodedGroup {
  readonly name: string;
  /** Engineering values: scaled, null where not implemented. Strings without trailing NULs. */
  readonly values: Readonly<Record<string, RawValue>>;
  /** The values before scaling (SF points hold their exponents here). */
  readonly raw: Readonly<Record<string, RawValue>>;
  /** Nested groups by name; a repeating group has one entry per repetition. */
  readonly groups: Readonly<Record<string, readonly DecodedGroup[]>>;
}

export interface DecodedModel extends DecodedGroup {
  readonly id: number;
  /** L as the device reports it. */
  readonly length: number;
}

const U16_NI = 0xffff;

function u32(w: readonly number[], i: number): number {
  return ((w[i] ?? 0) * 0x10000 + (w[i + 1] ?? 0)) >>> 0;
}

function u64(w: readonly number[], i: number): bigint {
  let v = 0n;
  for (let k = 0; k < 4; k++) v = (v << 16n) | BigInt((w[i + k] ?? 0) & 0xffff);
  return v;
}

function bytesOf(w: readonly number[], i: number, size: number): Buffer {
  const b = Buffer.alloc(2 * size);
  for (let k = 0; k < size; k++) b.writeUInt16BE((w[i + k] ?? 0) & 0xffff, 2 * k);
  return b;
}

/** One point's raw value from the words at `i`, null for the type's not-implemented value. */
export function decodePoint(type: PointType, size: number, w: readonly number[], i: number): RawValue {
  const x = (w[i] ?? 0) & 0xffff;
  switch (type) {
    case 'int16':
    case 'sunssf':
      return x === 0x8000 ? null : x >= 0x8000 ? x - 0x10000 : x;
    case 'uint16':
    case 'count':
    case 'enum16':
    case 'bitfield16':
      return x === U16_NI ? null : x;
    case 'acc16':
      return x === 0 ? null : x;
    case 'pad':
      return null;
    case 'int32': {
      const v = u32(w, i);
      return v === 0x80000000 ? null : v | 0;
    }
    case 'uint32':
    case 'enum32':
    case 'bitfield32': {
      const v = u32(w, i);
      return v === 0xffffffff ? null : v;
    }
    case 'acc32':
    case 'ipaddr': {
      const v = u32(w, i);
      return v === 0 ? null : v;
    }
    case 'float32': {
      const v = bytesOf(w, i, 2).readFloatBE(0);
      return Number.isNaN(v) ? null : v;
    }
    case 'float64': {
      const v = bytesOf(w, i, 4).readDoubleBE(0);
      return Number.isNaN(v) ? null : v;
    }
    case 'int64': {
      const v = BigInt.asIntN(64, u64(w, i));
      return v === -(2n ** 63n) ? null : Number(v);
    }
    case 'uint64': {
      const v = u64(w, i);
      return v === 2n ** 64n - 1n ? null : Number(v);
    }
    case 'acc64': {
      const v = u64(w, i);
      return v === 0n ? null : Number(v);
    }
    case 'string': {
      const b = bytesOf(w, i, size);
      const end = b.indexOf(0);
      const s = b
        .subarray(0, end < 0 ? b.length : end)
        .toString('latin1')
        .trimEnd();
      return s === '' ? null : s;
    }
    case 'ipv6addr':
    case 'eui48': {
      const b = bytesOf(w, i, size);
      return b.every((c) => c === 0) ? null : b.toString('hex');
    }
  }
}

/** The words of one point; null writes the type's not-implemented value. Numbers are raw (unscaled). */
export function encodePoint(type: PointType, size: number, value: RawValue): number[] {
  const b = Buffer.alloc(2 * size);
  if (type === 'string' || type === 'ipv6addr' || type === 'eui48') {
    if (typeof value === 'string') (type === 'string' ? Buffer.from(value, 'latin1') : Buffer.from(value, 'hex')).copy(b, 0, 0, b.length);
  } else if (typeof value === 'string') {
    throw new Error(`a ${type} point takes a number, not "${value}"`);
  } else {
    switch (type) {
      case 'int16':
      case 'sunssf':
        b.writeUInt16BE(value === null ? 0x8000 : value & 0xffff, 0);
        break;
      case 'uint16':
      case 'count':
      case 'enum16':
      case 'bitfield16':
        b.writeUInt16BE(value === null ? U16_NI : value & 0xffff, 0);
        break;
      case 'acc16':
      case 'pad':
        b.writeUInt16BE(value === null ? 0 : value & 0xffff, 0);
        break;
      case 'int32':
        b.writeUInt32BE(value === null ? 0x80000000 : value >>> 0, 0);
        break;
      case 'uint32':
      case 'enum32':
      case 'bitfield32':
        b.writeUInt32BE(value === null ? 0xffffffff : value >>> 0, 0);
        break;
      case 'acc32':
      case 'ipaddr':
        b.writeUInt32BE(value === null ? 0 : value >>> 0, 0);
        break;
      case 'float32':
        b.writeFloatBE(value ?? Number.NaN, 0);
        break;
      case 'float64':
        b.writeDoubleBE(value ?? Number.NaN, 0);
        break;
      case 'int64':
        b.writeBigInt64BE(value === null ? -(2n ** 63n) : BigInt(Math.round(value)), 0);
        break;
      case 'uint64':
        b.writeBigUInt64BE(value === null ? 2n ** 64n - 1n : BigInt(Math.round(value)), 0);
        break;
      case 'acc64':
        b.writeBigUInt64BE(value === null ? 0n : BigInt(Math.round(value)), 0);
        break;
    }
  }
  return Array.from({ length: size }, (_, k) => b.readUInt16BE(2 * k));
}

/** raw × 10^sf, without binary noise for negative exponents (2301 × 10^-1 = 230.1). */
export const scale = (raw: number, sf: number): number => (sf < 0 ? raw / 10 ** -sf : raw * 10 ** sf);

/** The raw integer that scales to `value` with exponent `sf`. */
export const unscale = (value: number, sf: number): number => Math.round(sf < 0 ? value * 10 ** -sf : value / 10 ** sf);

const NUMERIC_SCALED = new Set<PointType>(['int16', 'uint16', 'count', 'acc16', 'int32', 'uint32', 'acc32', 'int64', 'uint64', 'acc64']);

type Scope = readonly Readonly<Record<string, RawValue>>[];

function lookup(scope: Scope, name: string): RawValue | undefined {
  for (const s of scope) if (name in s) return s[name];
  return undefined;
}

function sfOf(p: PointDef, scope: Scope): number | null | undefined {
  if (p.sf === undefined) return undefined;
  if (typeof p.sf === 'number') return p.sf;
  if (/^-?\d+$/.test(p.sf)) return Number(p.sf);
  const v = lookup(scope, p.sf);
  return typeof v === 'number' ? v : null;
}

function repeatsOf(child: GroupDef, scope: Scope, remaining: number): number {
  if (typeof child.count === 'number') return child.count;
  if (child.count === undefined) return 1;
  const v = lookup(scope, child.count);
  if (typeof v === 'number') return v;
  const size = fixedSize(child, 0);
  return size > 0 ? Math.max(0, Math.floor(remaining / size)) : 0; // count point not implemented: what L leaves room for
}

function decodeGroup(g: GroupDef, w: readonly number[], start: number, outer: Scope, end: number): { group: DecodedGroup; next: number } {
  const raw: Record<string, RawValue> = {};
  let at = start;
  for (const p of g.points) {
    raw[p.name] = decodePoint(p.type, p.size, w, at);
    at += p.size;
  }
  const scope = [raw, ...outer];
  const values: Record<string, RawValue> = {};
  for (const p of g.points) {
    const r = raw[p.name] ?? null;
    const sf = sfOf(p, scope);
    values[p.name] = sf === undefined || typeof r !== 'number' || !NUMERIC_SCALED.has(p.type) ? (sf === null ? null : r) : sf === null ? null : scale(r, sf);
  }
  const groups: Record<string, DecodedGroup[]> = {};
  for (const child of g.groups ?? []) {
    const n = repeatsOf(child, scope, end - at);
    const list: DecodedGroup[] = [];
    for (let k = 0; k < n && at < end; k++) {
      const r = decodeGroup(child, w, at, scope, end);
      list.push(r.group);
      at = r.next;
    }
    groups[child.name] = list;
  }
  return { group: { name: g.name, values, raw, groups }, next: at };
}

/** Decodes one model block: `words` starts at the model's ID register and holds ID, L and L registers. */
export function decodeModel(def: ModelDef, words: readonly number[]): DecodedModel {
  const id = words[0];
  if (id !== def.id) throw new Error(`SunSpec: the block holds model ${String(id)}, not ${def.id}`);
  const length = words[1] ?? 0;
  if (words.length < length + 2) throw new Error(`SunSpec model ${def.id}: ${words.length} registers for L=${length}`);
  const { group } = decodeGroup(def.group, words, 0, [], length + 2);
  return { ...group, id, length };
}

/** Offset (from the ID register) and definition of a top-level point. */
export function pointOf(def: ModelDef, name: string): { readonly offset: number; readonly point: PointDef } {
  let offset = 0;
  for (const point of def.group.points) {
    if (point.name === name) return { offset, point };
    offset += point.size;
  }
  throw new Error(`SunSpec model ${def.id} has no point ${name}`);
}

export interface EncodeInput {
  /** Values in engineering units (scaled by their SF, which is itself one of the values); missing = not implemented. */
  readonly values: Readonly<Record<string, RawValue>>;
  /** Nested groups by name, one input per repetition; missing = as many not-implemented repetitions as the count says. */
  readonly groups?: Readonly<Record<string, readonly EncodeInput[]>>;
}

function encodeGroup(g: GroupDef, input: EncodeInput, outer: Scope, out: number[]): void {
  const scope = [input.values, ...outer];
  for (const p of g.points) {
    let v: RawValue = input.values[p.name] ?? null;
    if (typeof v === 'number' && NUMERIC_SCALED.has(p.type)) {
      const sf = sfOf(p, scope);
      if (typeof sf === 'number') v = unscale(v, sf);
    }
    out.push(...encodePoint(p.type, p.size, v));
  }
  for (const child of g.groups ?? []) {
    const given = input.groups?.[child.name];
    const n = given?.length ?? repeatsOf(child, scope, 0);
    for (let k = 0; k < n; k++) encodeGroup(child, given?.[k] ?? { values: {} }, scope, out);
  }
}

/** The register block of a model (ID, L and its points), the inverse of decodeModel. */
export function encodeModel(def: ModelDef, input: EncodeInput): number[] {
  const words: number[] = [];
  encodeGroup(def.group, { ...input, values: { ...input.values, ID: def.id } }, [], words);
  words[1] = words.length - 2;
  return words;
}
