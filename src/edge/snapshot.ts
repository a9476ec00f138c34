import type { ChannelValue } from '../channels/value.js';

/**
 * The one consistent picture of the site that a cycle hands to every controller: a read-only map
 * of `component/Channel` to the value the process image held when the cycle started. Controllers
 * never read the process image themselves, so every controller of a cycle sees the same state.
 *
 * Sign conventions (docs/sign-conventions.md, and the channel list of issue 10):
 * - `grid/ActivePower`, `grid/ActivePower_L1..L3`: W, positive = import (grid into the site),
 *   negative = export.
 * - `ess0/ActivePower`, `ess0/ActivePower_L1..L3`, `ess0/SetActivePower[_Lx]`: W, positive =
 *   discharge (battery into the site), negative = charge. `ess0/BatteryCurrent`: positive = discharge.
 *   `ess0/AllowedChargePower` and `ess0/AllowedDischargePower` are magnitudes (W, >= 0).
 * - `pv0/ActivePower`, `pv0/ActivePower_L1..L3`, `gen0/ActivePower`: W, positive = production.
 *   The virtual grid meter is `grid = load - pv - ess - gen` (docs/sign-conventions.md), so PV
 *   (and a generator) count positive when they produce. `pv0/ActivePowerLimit[_Lx]` is a production cap (W, >= 0).
 * - With the battery discharge-positive, the same virtual meter reads
 *   `grid_Lx = load_Lx - ess_Lx - pv_Lx - gen_Lx`. (A charge-positive battery channel would be
 *   added instead; ours is discharge-positive, so the sign flips.)
 * Hence, for every asset that produces into the site, raising its output by x W lowers grid import
 * by x W on the same phase: `grid_new = grid + asset_measured - asset_new`.
 */
export interface Snapshot {
  /** When the cycle took the snapshot (Unix ms). */
  readonly takenAt: number;
  readonly channels: ReadonlyMap<string, ChannelValue>;
}

export const address = (component: string, channel: string): string => `${component}/${channel}`;

/** Builds a frozen snapshot (tests, the cycle runtime) from entries or a plain record. */
export function snapshotOf(takenAt: number, entries: Iterable<readonly [string, ChannelValue]> | Readonly<Record<string, ChannelValue>>): Snapshot {
  const list = Symbol.iterator in entries ? [...entries] : Object.entries(entries);
  const map = new Map<string, ChannelValue>();
  for (const [k, v] of list) map.set(k, Object.freeze({ ...v }));
  return Object.freeze({ takenAt, channels: map });
}

/** A value that may be used for control, or why it may not. */
export type Reading = { readonly ok: true; readonly value: number; readonly ts: number } | { readonly ok: false; readonly why: string };

/**
 * A value usable for a command: present, GOOD, a finite number, and measured at most `maxAgeMs`
 * before `nowMs` (and not after it: a value from the future means a clock problem, not fresh data).
 * STALE and ERROR values are never used to steer; they are only shown.
 */
export function read(s: Snapshot, addr: string, nowMs: number, maxAgeMs: number): Reading {
  const v = s.channels.get(addr);
  if (!v) return { ok: false, why: `${addr} missing` };
  if (v.quality !== 'GOOD') return { ok: false, why: `${addr} ${v.quality}` };
  if (v.value === null || !Number.isFinite(v.value)) return { ok: false, why: `${addr} has no value` };
  const age = nowMs - v.ts;
  if (age > maxAgeMs) return { ok: false, why: `${addr} is ${Math.round(age / 100) / 10} s old (limit ${maxAgeMs / 1000} s)` };
  if (age < -maxAgeMs) return { ok: false, why: `${addr} is timestamped ${Math.round(-age / 100) / 10} s in the future` };
  return { ok: true, value: v.value, ts: v.ts };
}

/** The value when usable for control (GOOD and fresh), otherwise undefined. */
export function fresh(s: Snapshot, addr: string, nowMs: number, maxAgeMs: number): number | undefined {
  const r = read(s, addr, nowMs, maxAgeMs);
  return r.ok ? r.value : undefined;
}

/** Reads several addresses; all usable, or the reasons of every one that is not. */
export function readAll<K extends string>(
  s: Snapshot,
  addrs: Readonly<Record<K, string>>,
  nowMs: number,
  maxAgeMs: number,
): { readonly ok: true; readonly values: Record<K, number> } | { readonly ok: false; readonly why: string } {
  const values = {} as Record<K, number>;
  const bad: string[] = [];
  for (const k of Object.keys(addrs) as K[]) {
    const r = read(s, addrs[k], nowMs, maxAgeMs);
    if (r.ok) values[k] = r.value;
    else bad.push(r.why);
  }
  return bad.length === 0 ? { ok: true, values } : { ok: false, why: bad.join('; ') };
}

/** The raw value whatever its quality: for display and monitoring only, never for a command. */
export const shown = (s: Snapshot, addr: string): ChannelValue | undefined => s.channels.get(addr);
