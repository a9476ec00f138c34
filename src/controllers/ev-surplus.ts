import { command, evMinW, type Battery, type EvCharger, type GridMeter } from '../edge/capabilities.js';
import { failed, fmtW, type ControllerResult, type Criticality, type Proposal } from '../edge/proposal.js';
import { fresh, type Snapshot } from '../edge/snapshot.js';
import { EV_CHANNEL } from '../ocpp/ev-channels.js';
import { batteryPower, DEFAULT_MAX_AGE_MS, gridPower } from './assets.js';

/**
 * EV charging as a flexible load (docs/ocpp.md "In the edge cycle"). Per charger a target for its
 * charging limit (`ev1/SetChargeLimit`, W), from what the site would otherwise export:
 *
 * - `surplus`: the car takes the export, feed-forward from measured power
 *   (`limit = car's power - grid - marginW`), shared among the chargers in their order. A car starts
 *   only after the surplus has covered its minimum power (6 A on each phase) for `startDelayMs`, and
 *   once charging it keeps at least the minimum, taking up to `hysteresisW` from the grid without
 *   notice, more only for `stopDelayMs`, then it pauses (0 W): no flicker around the threshold.
 *   After each change of its limit by a whole amp or more the limit is held for `settleMs`: the car
 *   takes seconds to follow a profile and the connection point meter is read once a second, so a
 *   fresh reading of the car beside an older one of the grid would count the change twice (overshoot).
 * - `min-surplus`: never below the minimum while a car is connected; the surplus on top.
 * - `fast`: the charger's rating. `off`: paused.
 * - `importLimitW` (the site's own import cap): a bound in `importCriticality` (business) on each
 *   charger, its measured power plus an equal share of the room left under the cap (0 under the
 *   minimum), so a car never pushes the site over its limit whatever the mode.
 * With `priority: battery` (default) the battery takes the surplus first (the car gets the export
 * left over); with `priority: ev` battery charging counts as surplus for the car.
 * Chargers without a transaction get the limit for a car that arrives (0 in `surplus`).
 * The car's power is read with `evMaxAgeMs` (chargers report every minute or so); unknown counts as 0,
 * which can only make the car charge less.
 */
export type EvMode = 'surplus' | 'min-surplus' | 'fast' | 'off';

export interface EvSurplusConfig {
  readonly id: string;
  readonly grid: GridMeter;
  readonly chargers: readonly EvCharger[];
  readonly battery?: Battery;
  readonly mode?: EvMode;
  readonly priority?: 'battery' | 'ev';
  readonly marginW?: number;
  readonly hysteresisW?: number;
  readonly startDelayMs?: number;
  readonly stopDelayMs?: number;
  readonly settleMs?: number;
  readonly importLimitW?: number;
  readonly importCriticality?: Criticality;
  readonly criticality?: Criticality;
  readonly maxAgeMs?: number;
  readonly evMaxAgeMs?: number;
}

export interface EvChargerState {
  /** Charging from the surplus (in `surplus` mode). */
  readonly on: boolean;
  /** Since when the surplus has been past the start (off) or under the stop (on) threshold. */
  readonly sinceMs: number | null;
  /** The last target and when it last changed by a whole amp or more (for `settleMs`). */
  readonly targetW?: number;
  readonly changedAtMs?: number;
}

export interface EvSurplusState {
  readonly chargers: Readonly<Record<string, EvChargerState>>;
}
export const EV_SURPLUS_START: EvSurplusState = { chargers: {} };

const OFF: EvChargerState = { on: false, sinceMs: null };

/** One charger's step of the surplus hysteresis: the target (W) and its next state. */
export function surplusStep(
  availableW: number,
  st: EvChargerState,
  c: { minW: number; maxW: number; hysteresisW: number; startDelayMs: number; stopDelayMs: number },
  nowMs: number,
): { targetW: number; state: EvChargerState; note: string } {
  const want = Math.min(c.maxW, availableW);
  if (!st.on) {
    if (want < c.minW) return { targetW: 0, state: OFF, note: `paused: surplus ${fmtW(availableW)} under the minimum ${fmtW(c.minW)}` };
    const since = st.sinceMs ?? nowMs;
    if (nowMs - since < c.startDelayMs)
      return {
        targetW: 0,
        state: { on: false, sinceMs: since },
        note: `starts in ${Math.ceil((c.startDelayMs - (nowMs - since)) / 1000)} s if the surplus holds`,
      };
    return { targetW: want, state: { on: true, sinceMs: null }, note: `started: ${fmtW(want)} from the surplus` };
  }
  if (want >= c.minW - c.hysteresisW)
    return { targetW: Math.max(c.minW, want), state: { on: true, sinceMs: null }, note: `${fmtW(Math.max(c.minW, want))} from the surplus` };
  const since = st.sinceMs ?? nowMs;
  if (nowMs - since < c.stopDelayMs)
    return {
      targetW: c.minW,
      state: { on: true, sinceMs: since },
      note: `surplus ${fmtW(availableW)} under the minimum: held at ${fmtW(c.minW)}, pauses in ${Math.ceil((c.stopDelayMs - (nowMs - since)) / 1000)} s`,
    };
  return { targetW: 0, state: OFF, note: `paused: the surplus stayed under the minimum for ${Math.round(c.stopDelayMs / 1000)} s` };
}

export function evSurplus(s: Snapshot, cfg: EvSurplusConfig, st: EvSurplusState, nowMs: number): ControllerResult<EvSurplusState> {
  const maxAge = cfg.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const evAge = cfg.evMaxAgeMs ?? 120_000;
  const mode = cfg.mode ?? 'surplus';
  const crit = cfg.criticality ?? 'optimisation';
  const margin = cfg.marginW ?? 100;
  if (cfg.chargers.length === 0) return failed(st, 'no EV charger asset to steer');
  const g = gridPower(s, cfg.grid, nowMs, maxAge);
  if (!g.ok) return failed(st, `no usable grid power (${g.why}); EV charging left to the safe state`);

  const present = cfg.chargers.filter((c) => fresh(s, `${c.component}/${EV_CHANNEL.transaction}`, nowMs, evAge) !== undefined);
  const absent = cfg.chargers.filter((c) => !present.includes(c)).map((c) => `${c.component} not connected`);
  const powerOf = (c: EvCharger): number => Math.max(0, fresh(s, `${c.component}/${EV_CHANNEL.power}`, nowMs, evAge) ?? 0);
  const charging = (c: EvCharger): boolean => fresh(s, `${c.component}/${EV_CHANNEL.transaction}`, nowMs, evAge) === 1;
  const evTotal = present.reduce((n, c) => n + powerOf(c), 0);
  const bat = cfg.battery ? batteryPower(s, cfg.battery, nowMs, maxAge) : undefined;
  const batteryCharge = cfg.priority === 'ev' && bat !== undefined ? Math.max(0, -bat) : 0;
  let remaining = evTotal - g.w - margin + batteryCharge;

  const proposals: Proposal[] = [];
  const next: Record<string, EvChargerState> = {};
  const notes: string[] = [];
  const cap = cfg.importLimitW;
  const room = cap === undefined ? 0 : (cap - g.w) / Math.max(1, present.length);
  for (const c of present) {
    const minW = evMinW(c);
    const own = st.chargers[c.component] ?? OFF;
    let targetW: number;
    let note: string;
    if (!charging(c)) {
      targetW = mode === 'fast' ? c.maxW : mode === 'min-surplus' ? minW : 0;
      next[c.component] = OFF;
      note = `no car: ${fmtW(targetW)} ready for the next one`;
    } else if (mode === 'off' || mode === 'fast') {
      targetW = mode === 'fast' ? c.maxW : 0;
      next[c.component] = OFF;
      note = mode === 'fast' ? `fast: ${fmtW(c.maxW)}` : 'off: paused';
    } else if (mode === 'min-surplus') {
      targetW = Math.min(c.maxW, Math.max(minW, remaining));
      next[c.component] = { on: true, sinceMs: null };
      note = `${fmtW(targetW)} (minimum ${fmtW(minW)} plus surplus)`;
    } else {
      const r = surplusStep(
        remaining,
        own,
        { minW, maxW: c.maxW, hysteresisW: cfg.hysteresisW ?? 300, startDelayMs: cfg.startDelayMs ?? 60_000, stopDelayMs: cfg.stopDelayMs ?? 180_000 },
        nowMs,
      );
      targetW = r.targetW;
      next[c.component] = r.state;
      note = r.note;
      const settle = cfg.settleMs ?? 10_000;
      const age = nowMs - (own.changedAtMs ?? -Infinity);
      if (own.on && r.state.on && own.targetW !== undefined && age < settle) {
        targetW = own.targetW;
        note = `${fmtW(targetW)} held ${Math.ceil((settle - age) / 1000)} s more while the car follows its last limit`;
      }
    }
    const prev = own.targetW;
    const moved = prev === undefined || Math.abs(targetW - prev) >= c.voltageV * c.phases;
    next[c.component] = { ...(next[c.component] ?? OFF), targetW: moved ? targetW : prev, changedAtMs: moved ? nowMs : (own.changedAtMs ?? nowMs) };
    remaining -= targetW;
    const target = command.evLimit(c);
    proposals.push({ kind: 'target', target, value: targetW, criticality: crit, source: cfg.id, why: `EV ${mode}: ${note}; grid ${fmtW(g.w)}` });
    if (cap !== undefined) {
      const allowed = powerOf(c) + room;
      // Under the minimum a car cannot charge: the cap pauses it rather than asking for what it cannot do.
      const max = allowed < minW ? 0 : Math.min(c.maxW, allowed);
      proposals.push({
        kind: 'bound',
        target,
        min: 0,
        max,
        criticality: cfg.importCriticality ?? 'business',
        source: cfg.id,
        why: `site import limit ${fmtW(cap)}: grid ${fmtW(g.w)}, ${c.component} at most ${fmtW(max)}`,
      });
      if (max < targetW) note += `; capped at ${fmtW(max)} by the import limit`;
    }
    notes.push(`${c.component} ${note}`);
  }
  const text = [...notes, ...absent].join('; ') || 'no charger connected';
  return { proposals, state: { chargers: next }, status: present.length ? { state: 'ok', detail: text } : { state: 'idle', reason: text } };
}
