import type { ActiveLimit, ActiveLimits, LimitSource, ProgramInput, Quantity } from './schedule.js';

/**
 * The utility's ramp applied to the limits in force (docs/csip.md "Ramp"), pure: the schedule's limits,
 * the ramp parameters and the time go in; the limits to apply and the state for the next step come out.
 *
 * - A limit that gets tighter (lower W, lower %, a new limit where there was none) applies at once: it is
 *   the utility's limit from the event's start (CACTUS ALL-28 (b) asks for a 10 % limit within 15 s with
 *   setGradW unset, which 0.27 %/s could not meet: 20 % of rating takes 74 s).
 * - A limit that gets looser rises at the ramp: the event's `rampTms` (1/100 s, the whole change in that
 *   time) when the event that brings it sets one, otherwise the DefaultDERControl's `setGradW`
 *   (hundredths of a percent of rated power per second; 27 when the server sets none, AS/NZS 4777.2;
 *   0: no limit). A limit that goes away rises to the rating, then is dropped.
 * - Reconnection (Connect or Energize back to 1 after 0) ramps generation from 0: `opModMaxLimW` rises
 *   from 0 % to the server's value (or 100 %) at the same rate, then is dropped if the server sets none.
 * - A gap between two events (an event setting the quantity starts at most `bridgeGapMs` after the last
 *   one ended) is obeyed (the default of the gap applies) but does not cause a ramp: coming back up to
 *   the level before the gap is immediate, only a rise above it ramps (open-dynamic-export issue 75).
 * Connect and Energize themselves are switches and pass through.
 */
export const DEFAULT_SET_GRAD_W = 27;

export const RAMPED = ['opModExpLimW', 'opModGenLimW', 'opModImpLimW', 'opModLoadLimW', 'opModMaxLimW'] as const;
export type RampedQuantity = (typeof RAMPED)[number];

export interface QuantityRamp {
  /** The value applied (W, or % for opModMaxLimW). */
  readonly applied: number;
  /** Where it is going: the schedule's value, or the ceiling when the schedule sets none. */
  readonly target: number;
  /** Rise per second while below the target; null: no limit. */
  readonly ratePerS: number | null;
  /** What the transition is keyed on, so a new one (another value or source) recomputes the rate. */
  readonly key: string;
  readonly source: LimitSource;
  /** The value applied when the last event setting this quantity ended, and when (a gap's bridge). */
  readonly beforeGap?: { readonly value: number; readonly endedMs: number };
}

export interface RampState {
  readonly atMs: number | null;
  readonly q: { readonly [Q in RampedQuantity]?: QuantityRamp };
  /** Connect and Energize both 1 (or unset) at the last step. */
  readonly connected: boolean;
}
export const RAMP_START: RampState = { atMs: null, q: {}, connected: true };

export interface RampInput {
  readonly nowMs: number;
  readonly limits: ActiveLimits;
  /** The setGradW in force (hundredths of a percent of rated power per second). */
  readonly setGradW: number;
  /** The event's rampTms (1/100 s), if it sets one. */
  readonly rampTmsOf: (eventMRID: string) => number | undefined;
  /** The site's rated power (W) that setGradW is a share of; undefined: W limits cannot ramp by setGradW and apply at once. */
  readonly ratedW: number | undefined;
  readonly bridgeGapMs: number;
}

export interface RampResult {
  readonly state: RampState;
  /** The schedule's limits with the ramped values (sources unchanged). */
  readonly limits: ActiveLimits;
  /** Quantities still rising: the value applied, the target and the rate. */
  readonly ramping: { readonly [Q in RampedQuantity]?: { readonly applied: number; readonly target: number; readonly ratePerS: number | null } };
}

/** The setGradW in force: the DefaultDERControl's of the lowest-primacy program that sets one, else 27. */
export function setGradWInForce(programs: readonly ProgramInput[]): number {
  const p = [...programs].sort((a, b) => a.primacy - b.primacy).find((x) => x.defaultControl?.setGradW !== undefined);
  return p?.defaultControl?.setGradW ?? DEFAULT_SET_GRAD_W;
}

/** An event's rampTms (1/100 s) by its mRID, from the programs as last read. */
export const rampTmsLookup =
  (programs: readonly ProgramInput[]) =>
  (mRID: string): number | undefined => {
    for (const p of programs) for (const c of p.controls) if (c.mRID === mRID) return c.DERControlBase.rampTms;
    return undefined;
  };

/**
 * A tighter limit that starts soon applies now: for each limit, the lower of the one in force and the
 * one in force `anticipateS` later (`ahead`), with the later one's source. The site is then within the
 * new limit at its start instead of a cycle and the inverter's response after it; the cost is the
 * energy not exported in those seconds. Looser limits and the connection controls are not anticipated.
 */
export function anticipate(now: ActiveLimits, ahead: ActiveLimits): ActiveLimits {
  const out: { [Q in Quantity]?: ActiveLimit } = { ...now };
  for (const q of RAMPED) {
    const a = ahead[q];
    const n = now[q];
    if (a && typeof a.value === 'number' && (!n || (typeof n.value === 'number' && a.value < n.value))) out[q] = a;
  }
  return out;
}

const sourceKey = (s: LimitSource): string => (s.kind === 'event' ? `event:${s.eventMRID}` : s.kind === 'default' ? `default:${s.defaultMRID}` : 'fallback');

export function stepRamp(st: RampState, i: RampInput): RampResult {
  const dtS = st.atMs === null ? 0 : Math.max(0, (i.nowMs - st.atMs) / 1000);
  const connected = i.limits.opModConnect?.value !== false && i.limits.opModEnergize?.value !== false;
  const reconnected = connected && !st.connected;
  const out: { [Q in Quantity]?: ActiveLimit } = { ...i.limits };
  const next: { [Q in RampedQuantity]?: QuantityRamp } = {};
  const ramping: { [Q in RampedQuantity]?: { applied: number; target: number; ratePerS: number | null } } = {};

  for (const q of RAMPED) {
    const pct = q === 'opModMaxLimW';
    const ceiling = pct ? 100 : i.ratedW;
    const l = i.limits[q];
    let prev = st.q[q];
    if (reconnected && pct) {
      // Generation comes back from 0 after a disconnection, at the ramp.
      const src = i.limits.opModConnect?.source ?? i.limits.opModEnergize?.source ?? { kind: 'fallback' as const };
      prev = { applied: 0, target: 0, ratePerS: null, key: 'reconnect', source: src };
    }
    const value = l && typeof l.value === 'number' ? l.value : undefined;
    const target = value ?? (prev === undefined ? undefined : ceiling);
    if (target === undefined) continue; // nothing set, or nothing to ramp to
    const source = l?.source ?? prev?.source ?? { kind: 'fallback' as const };
    const key = `${value === undefined ? 'none' : sourceKey(source)}=${target}`;

    // Remember the level an event left at its end; bridge back to it if the next event comes soon.
    let beforeGap = prev?.beforeGap;
    if (prev && prev.source.kind === 'event' && source.kind !== 'event') beforeGap = { value: prev.applied, endedMs: i.nowMs };
    let applied: number;
    let ratePerS: number | null = prev?.ratePerS ?? null;
    if (prev === undefined || target <= prev.applied) {
      applied = target; // tighter, or first seen: at once
      ratePerS = null;
    } else {
      let from = prev.applied;
      const bridged = source.kind === 'event' && prev.source.kind !== 'event' && beforeGap !== undefined && i.nowMs - beforeGap.endedMs <= i.bridgeGapMs;
      if (bridged && beforeGap) from = Math.max(from, Math.min(target, beforeGap.value));
      if (prev.key !== key || bridged) ratePerS = rate(q, target - from, source, i);
      applied = ratePerS === null ? target : Math.min(target, from + (prev.key !== key || bridged ? 0 : ratePerS * dtS));
      // A new transition starts from where it was, and moves from the next step on.
    }
    if (source.kind === 'event') beforeGap = undefined;
    if (applied < target) ramping[q] = { applied, target, ratePerS };
    if (value === undefined && applied >= target) continue; // ramped up to the ceiling: the limit is gone
    next[q] = { applied, target, ratePerS, key, source, ...(beforeGap ? { beforeGap } : {}) };
    out[q] = { value: applied, source };
  }
  return { state: { atMs: i.nowMs, q: next, connected }, limits: out, ramping };
}

/** Rise per second for a change of `delta` brought by `source`; null: at once. */
function rate(q: RampedQuantity, delta: number, source: LimitSource, i: RampInput): number | null {
  const tms = source.kind === 'event' ? i.rampTmsOf(source.eventMRID) : undefined;
  if (tms !== undefined) return tms > 0 ? delta / (tms / 100) : null;
  if (i.setGradW <= 0) return null;
  const pctPerS = i.setGradW / 100;
  if (q === 'opModMaxLimW') return pctPerS;
  return i.ratedW === undefined ? null : (pctPerS / 100) * i.ratedW;
}
