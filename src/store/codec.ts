import { CHANNEL_NAMES, channelDef } from '../channels/catalogue.js';

/**
 * Packs one poll's values into a BLOB. Counters (kWh) are float64 so a 6-digit counter keeps its
 * 0.01 kWh resolution (float32 steps are 0.0625 at 1e6); everything else is float32 (7 digits, more
 * than any meter measures). Little-endian; a channel missing from a poll is NaN.
 */
export type SlotType = 'f32' | 'f64';

export interface LayoutSlot {
  readonly name: string;
  readonly type: SlotType;
  readonly offset: number;
}

export interface Layout {
  /** "ActivePower:f32,EnergyImport:f64,..." as stored in the layouts table. */
  readonly spec: string;
  readonly slots: readonly LayoutSlot[];
  readonly byteLength: number;
  readonly index: ReadonlyMap<string, LayoutSlot>;
}

const catalogueOrder = new Map(CHANNEL_NAMES.map((n, i) => [n, i]));

export function slotTypeOf(channel: string): SlotType {
  return channelDef(channel)?.counter ? 'f64' : 'f32';
}

function buildLayout(entries: readonly { name: string; type: SlotType }[]): Layout {
  let offset = 0;
  const slots = entries.map(({ name, type }) => {
    const slot = { name, type, offset };
    offset += type === 'f64' ? 8 : 4;
    return slot;
  });
  return {
    spec: slots.map((s) => `${s.name}:${s.type}`).join(','),
    slots,
    byteLength: offset,
    index: new Map(slots.map((s) => [s.name, s])),
  };
}

/** Catalogue order first (stable specs, so layouts are shared between meters), then unknown names A-Z. */
export function layoutFor(channels: Iterable<string>): Layout {
  const names = [...new Set(channels)].sort((a, b) => {
    const ia = catalogueOrder.get(a) ?? Infinity;
    const ib = catalogueOrder.get(b) ?? Infinity;
    return ia !== ib ? ia - ib : a < b ? -1 : a > b ? 1 : 0;
  });
  return buildLayout(names.map((name) => ({ name, type: slotTypeOf(name) })));
}

/** Reads a stored spec back; the stored types win over the catalogue, so old rows stay readable. */
export function parseLayout(spec: string): Layout {
  if (spec === '') return buildLayout([]);
  return buildLayout(
    spec.split(',').map((part) => {
      const [name, type] = part.split(':');
      if (!name || (type !== 'f32' && type !== 'f64')) throw new Error(`bad layout spec entry "${part}"`);
      return { name, type };
    }),
  );
}

/** True when every finite value has a slot in the layout (so the row can use it). */
export function layoutCovers(layout: Layout, values: Readonly<Record<string, number>>): boolean {
  for (const [name, v] of Object.entries(values)) {
    if (Number.isFinite(v) && !layout.index.has(name)) return false;
  }
  return true;
}

export function encodeValues(layout: Layout, values: Readonly<Record<string, number>>): Buffer {
  const buf = Buffer.allocUnsafe(layout.byteLength);
  for (const s of layout.slots) {
    const v = values[s.name];
    const x = v !== undefined && Number.isFinite(v) ? v : NaN;
    if (s.type === 'f64') buf.writeDoubleLE(x, s.offset);
    else buf.writeFloatLE(x, s.offset);
  }
  return buf;
}

/**
 * The shortest decimal that is the same float32, so 0.49 stored reads back as 0.49 rather than
 * 0.49000000953674316 (what JSON and CSV consumers would otherwise show).
 */
export function tidyFloat32(x: number): number {
  if (!Number.isFinite(x)) return x;
  for (let digits = 7; digits < 9; digits++) {
    const d = Number(x.toPrecision(digits));
    if (Math.fround(d) === x) return d;
  }
  return Number(x.toPrecision(9));
}

function readSlot(buf: Buffer, s: LayoutSlot, tidy = true): number {
  if (s.type === 'f64') return buf.length >= s.offset + 8 ? buf.readDoubleLE(s.offset) : NaN;
  if (buf.length < s.offset + 4) return NaN;
  const x = buf.readFloatLE(s.offset);
  return tidy ? tidyFloat32(x) : x;
}

/**
 * One channel of a row, NaN when the layout lacks it or the poll did not deliver it. `tidy: false`
 * skips the shortest-decimal step for callers that round anyway (interval building, ~30% faster).
 */
export function readChannel(layout: Layout, buf: Buffer, channel: string, tidy = true): number {
  const s = layout.index.get(channel);
  return s === undefined ? NaN : readSlot(buf, s, tidy);
}

/** All values present in a row; NaN slots are left out. */
export function decodeValues(layout: Layout, buf: Buffer): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of layout.slots) {
    const v = readSlot(buf, s);
    if (!Number.isNaN(v)) out[s.name] = v;
  }
  return out;
}
