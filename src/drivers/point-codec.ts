import { decodeRegisters, encodeRegisters } from './registers.js';
import type { PointSpec } from './profile-schema.js';
import { registerWidth, type WordOrder } from './register-types.js';
import type { ReadBlock } from './block-plan.js';

/** Per-installation settings that change how a profile's raw values become engineering values. */
export interface ScalingOptions {
  readonly ctRatio: number;
  readonly ptRatio: number;
  /** The meter is wired backwards: negate powers and swap import/export counters. */
  readonly invert: boolean;
  readonly wordOrder: WordOrder;
}

export const DEFAULT_SCALING: ScalingOptions = { ctRatio: 1, ptRatio: 1, invert: false, wordOrder: 'ABCD' };

function ratioOf(p: PointSpec, o: ScalingOptions): number {
  switch (p.ratio) {
    case 'ct':
      return o.ctRatio;
    case 'pt':
      return o.ptRatio;
    case 'ctpt':
      return o.ctRatio * o.ptRatio;
    case 'none':
      return 1;
  }
}

function channelAfterInvert(p: PointSpec, o: ScalingOptions): { channel: string; factor: number } {
  if (!o.invert || !p.onInvert) return { channel: p.channel, factor: 1 };
  if (p.onInvert === 'negate') return { channel: p.channel, factor: -1 };
  return { channel: p.onInvert.swapWith, factor: 1 };
}

/**
 * A point of a sub-component (a hybrid inverter's PV) is keyed `pv/ActivePower`, so it cannot collide
 * with the device's own `ActivePower`; splitSubComponents sorts a decoded poll by component kind.
 */
const qualified = (component: string | undefined, channel: string): string => (component ? `${component}/${channel}` : channel);

/** A decoded poll by component kind: '' holds the device's own channels, 'pv' its PV's, and so on. */
export function splitSubComponents(values: Readonly<Record<string, number>>): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const [key, v] of Object.entries(values)) {
    const slash = key.indexOf('/');
    const kind = slash < 0 ? '' : key.slice(0, slash);
    const channel = slash < 0 ? key : key.slice(slash + 1);
    const bucket = out.get(kind) ?? {};
    bucket[channel] = v;
    out.set(kind, bucket);
  }
  return out;
}

/** Raw register words of one point -> engineering value on its (possibly swapped) channel. */
export function decodePoint(p: PointSpec, words: readonly number[], o: ScalingOptions): { channel: string; value: number } {
  let raw = decodeRegisters(words, p.type, p.wordOrder ?? o.wordOrder);
  // A float32 holds 7 significant digits; dropping the binary tail keeps 230.2 from becoming 230.199997.
  if (p.type === 'float32') raw = Number(raw.toPrecision(7));
  const after = channelAfterInvert(p, o);
  const channel = qualified(p.component, after.channel);
  const factor = after.factor;
  return { channel, value: Number((raw * p.scale * p.sign * ratioOf(p, o) * factor).toPrecision(12)) };
}

/** The inverse of decodePoint without invert: what a real meter holds for an engineering value. */
export function encodePoint(p: PointSpec, value: number, o: ScalingOptions): number[] {
  const raw = value / (p.scale * p.sign * ratioOf(p, o));
  return encodeRegisters(raw, p.type, p.wordOrder ?? o.wordOrder);
}

/**
 * Decodes the words read for a block. A value that is not a finite number (a NaN float from a
 * meter with a damaged register) is dropped rather than stored.
 */
export function decodeBlock(block: ReadBlock, words: readonly number[], o: ScalingOptions): Record<string, number> {
  if (words.length < block.count) {
    throw new Error(`block at 0x${block.start.toString(16)} needs ${block.count} registers, got ${words.length}`);
  }
  const out: Record<string, number> = {};
  for (const p of block.points) {
    const offset = p.register - block.start;
    const { channel, value } = decodePoint(p, words.slice(offset, offset + registerWidth(p.type)), o);
    if (Number.isFinite(value)) out[channel] = value;
  }
  for (const d of block.derived ?? []) {
    const [a, b] = d.product;
    const x = out[a];
    const y = out[b];
    if (x !== undefined && y !== undefined) out[qualified(d.component, d.channel)] = Number((x * y).toPrecision(12));
  }
  return out;
}
