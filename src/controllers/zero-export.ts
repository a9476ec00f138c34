import { command, PHASES, type Battery, type GridMeter, type Phase, type PvInverter } from '../edge/capabilities.js';
import { failed, fmtW, idle, type ControllerResult, type Criticality, type Proposal } from '../edge/proposal.js';
import type { Snapshot } from '../edge/snapshot.js';
import { absorb } from './absorb.js';
import { batteryOffset, batteryPower, batteryRange, DEFAULT_MAX_AGE_MS, gridPhases, pvLimitNow, pvPhaseShares, pvPower } from './assets.js';
import { symmetricPvCut } from './export-per-phase.js';
import { NIGHT_START, pvNight, type NightConfig, type NightState } from './pv-night.js';

/**
 * Per-phase zero export (docs/sign-conventions.md#why-per-phase-power-matters and its worked example): no phase
 * may export. Where the inverter controls each phase (a per-phase battery setpoint, a per-phase PV
 * limit), each phase is corrected by its own amount. Where it does not, a symmetric change moves
 * every phase by a third of it, so the most-exporting phase decides: it is held at zero, which
 * takes three times its export in total (worked example: L1 +15 kW, L2 -3 kW, L3 -2 kW -> a symmetric
 * battery charges 9 kW; a per-phase one charges 3 kW on L2 and 2 kW on L3).
 *
 * The battery absorbs first (the energy is stored); PV curtailment takes what the battery cannot.
 * Proposals are bounds (limits), not targets: zero export says how far others may go, and the
 * self-consumption or schedule controllers choose within that. With no phase exporting, the bounds
 * say how much more the battery may discharge (or PV produce) before a phase would export.
 *
 * Releasing curtailed PV (`planRelease`): PV held back by its limit may rise only as fast as the battery
 * is asked to charge more in the same cycle (both follow the same inverter lag, so the grid does not
 * move and no phase exports, whether or not the sun is there). The first step is a quarter of the
 * battery's charge headroom (at least `shiftStepW`), and each step that PV took up doubles the next,
 * up to the whole headroom: 6 kW of headroom is released in three cycles instead of twelve. PV still
 * rising towards a limit raised last cycle counts as held (the inverter lag, and a reading taken half a
 * cycle after the write: without this every other cycle saw PV "not held" and released nothing), and the new limit is
 * counted from the measured production, like the battery's bound from its measured power, so the two
 * stay matched. Anti-windup: the limit never runs ahead of production by more than the grid room and
 * this cycle's step; and a step PV did not take up (the sun is not there) stops the release and backs
 * off before probing again with the base step (2 s, doubling to 8 s), so a limit that sits at what the
 * sun gives does not pulse the grid every other cycle, and PV held at a cloud's level comes back within
 * seconds of the cloud passing. A phase within `curtailedTolW` of the margin (meter noise around the
 * 50 W kept on each phase) does not stop the release.
 *
 * At night (pv-night.ts: no PV production for a while with proof it is the sun's, or outside the configured
 * daylight hours) nothing is probed and the PV limit is held still at a watch level, so the battery does
 * not charge probe steps from the grid and the limit is not rewritten as the load moves; the first PV
 * production at dawn ends the night.
 */
export interface ZeroExportConfig {
  readonly id: string;
  readonly grid: GridMeter;
  readonly battery?: Battery;
  readonly pv?: PvInverter;
  /** Import to keep on every phase (W) so that meter noise never shows as export; 50 W by default. */
  readonly marginW?: number;
  /** How far one cycle moves absorption from curtailment to the battery (W); 500 by default. */
  readonly shiftStepW?: number;
  /** A PV inverter producing within this of its limit counts as held back (W); 50 by default. */
  readonly curtailedTolW?: number;
  readonly criticality?: Criticality;
  readonly maxAgeMs?: number;
  /** When it is night for the PV array (pv-night.ts). */
  readonly night?: NightConfig;
  /** The site's time zone, for `night.daylight`. */
  readonly timeZone?: string;
}

export interface ZeroExportState {
  /** W of PV released (and of battery charge added) last cycle; 0 when none. */
  readonly stepW: number;
  /** PV production measured when that step was asked (W, total). */
  readonly pvAtStepW: number;
  /** No new release before this time (a step PV did not take up). */
  readonly probeAfterMs: number;
  readonly backoffMs: number;
  /** PV production seen last cycle (W), total and per phase, to tell PV still rising towards its limit. */
  readonly lastPvW?: Readonly<Record<Phase | 'total', number>>;
  readonly night?: NightState;
}
export const ZERO_EXPORT_START: ZeroExportState = { stepW: 0, pvAtStepW: 0, probeAfterMs: 0, backoffMs: 0 };

const BACKOFF_FIRST_MS = 2_000;
const BACKOFF_MAX_MS = 8_000;

/**
 * How much held-back PV to release this cycle (W, total), and the state for the next. `held`: PV is at
 * (or rising towards) its limit with no phase exporting; `headroomW`: how much more the battery may charge.
 */
export function planRelease(
  st: ZeroExportState,
  o: { held: boolean; headroomW: number; pvW: number; baseStepW: number; nowMs: number },
): { stepW: number; state: ZeroExportState } {
  let { probeAfterMs, backoffMs } = st;
  // Did PV take up last cycle's step? Less than a quarter of it means the sun is not there.
  const tookUp = st.stepW > 0 && o.pvW - st.pvAtStepW >= 0.25 * st.stepW;
  if (st.stepW > 0 && !tookUp) {
    backoffMs = backoffMs > 0 ? Math.min(BACKOFF_MAX_MS, backoffMs * 2) : BACKOFF_FIRST_MS;
    probeAfterMs = o.nowMs + backoffMs;
  } else if (tookUp) backoffMs = 0;
  const headroom = Math.max(0, o.headroomW);
  if (!o.held || headroom < 1 || o.nowMs < probeAfterMs) return { stepW: 0, state: { stepW: 0, pvAtStepW: o.pvW, probeAfterMs, backoffMs } };
  // After a probe the sun did not take up, probe again with the base step only (a small import pulse).
  const want = tookUp ? 2 * st.stepW : Math.max(o.baseStepW, backoffMs > 0 ? 0 : headroom / 4);
  const stepW = Math.min(headroom, want);
  return { stepW, state: { stepW, pvAtStepW: o.pvW, probeAfterMs, backoffMs } };
}

type PerPhase = Record<Phase, number>;
const perPhase = (f: (p: Phase) => number): PerPhase => ({ L1: f('L1'), L2: f('L2'), L3: f('L3') });
const worstOf = (x: PerPhase): number => Math.max(x.L1, x.L2, x.L3);

export function zeroExport(s: Snapshot, cfg: ZeroExportConfig, st: ZeroExportState, nowMs: number): ControllerResult<ZeroExportState> {
  const maxAge = cfg.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const margin = cfg.marginW ?? 50;
  const shift = cfg.shiftStepW ?? 500;
  const tol = cfg.curtailedTolW ?? 50;
  const criticality = cfg.criticality ?? 'supply-quality';
  const { battery: b, pv } = cfg;
  if (!b && !pv) return idle(st, 'zero export has neither a battery nor a PV limit to act with');
  const g = gridPhases(s, cfg.grid, nowMs, maxAge);
  if (!g.ok) return failed(st, `per-phase grid power not usable (${g.why}); PV and battery left to the safe state`);
  // Planned without what the droop's offset added last cycle (assets.ts batteryOffset): the battery bounds are on
  // the value the classes choose, to which the resolver adds the offset again, and the import an over-frequency
  // response causes is not room for PV to take back.
  const off = perPhase((p) => (b ? batteryOffset(s, b, nowMs, maxAge, p) : 0));
  const offTotal = off.L1 + off.L2 + off.L3;
  /** Measured battery power less the offset (W), total or on one phase. */
  const batBase = (bat: Battery, p?: Phase): number | undefined => {
    const w = batteryPower(s, bat, nowMs, maxAge, p);
    return w === undefined ? undefined : w - (p ? off[p] : offTotal);
  };
  /** Positive: W this phase must absorb to keep `margin` import; negative: room before it would. */
  const need = perPhase((p) => margin - (g.w[p] + off[p]));
  const why = `zero export per phase: ${PHASES.map((p) => `${p} ${fmtW(g.w[p])}`).join(', ')}`;
  const proposals: Proposal[] = [];
  const notes: string[] = [];
  const bound = (target: string, max: number, detail: string, min?: number): void => {
    proposals.push({ kind: 'bound', target, max, ...(min !== undefined ? { min } : {}), criticality, source: cfg.id, why: `${why}: ${detail}` });
  };

  // PV production and whether its limit is holding it back, on each phase or in total.
  const pvAt = (p?: Phase): number | undefined => (pv ? pvPower(s, pv, nowMs, maxAge, p) : undefined);
  const pvSum = pv ? (pv.perPhase ? PHASES.reduce((n, p) => n + (pvAt(p) ?? 0), 0) : (pvAt() ?? 0)) : 0;
  const limits = pv ? (pv.perPhase ? PHASES.map((p) => pvLimitNow(s, pv, nowMs, maxAge, p)) : [pvLimitNow(s, pv, nowMs, maxAge)]) : [];
  const known = limits.filter((l): l is number => l !== undefined);
  const limitSum = known.length && known.length === limits.length ? known.reduce((n, l) => n + l, 0) : undefined;
  const night = pv
    ? pvNight(
        st.night ?? NIGHT_START,
        { pvW: pvSum, limitW: limitSum, probeFailed: st.backoffMs > 0, nowMs, timeZone: cfg.timeZone, baseWatchW: shift },
        cfg.night,
      )
    : { state: NIGHT_START, why: null };
  // Held back: producing within `tol` of a limit below the rating, or still rising towards a limit
  // raised last cycle: at least a quarter of the way up from last cycle's production (the inverter's lag
  // and when the reading was taken decide how far it got; PV the sun does not give does not move at all).
  const pvHeld = (p?: Phase): boolean => {
    if (!pv || night.state.night) return false;
    const lim = pvLimitNow(s, pv, nowMs, maxAge, p);
    const now = pvAt(p);
    if (lim === undefined || now === undefined || lim >= pv.ratedW / (p ? pv.phases : 1)) return false;
    if (now >= lim - tol) return true;
    const before = st.lastPvW?.[p ?? 'total'];
    return before !== undefined && lim - before > tol && now - before >= 0.25 * (lim - before);
  };
  if (pv && (pv.perPhase ? PHASES.some((p) => pvAt(p) === undefined) : pvAt() === undefined)) {
    return failed(st, `${pv.component} production not usable; PV left to the safe state (the configured export limit)`);
  }
  const range = b ? batteryRange(s, b, nowMs, maxAge) : undefined;
  // The release of held-back PV this cycle (see planRelease), sized by the battery's charge headroom.
  const anyHeld = pv ? (pv.perPhase ? PHASES.some((p) => pvHeld(p)) : pvHeld()) : false;
  const headroomW = ((): number => {
    if (!b || !range) return 0;
    if (b.kind === 'battery-setpoint' && b.perPhase)
      return PHASES.reduce((sum, p) => sum + Math.max(0, (batteryPower(s, b, nowMs, maxAge, p) ?? range.minW / b.phases) - range.minW / b.phases), 0);
    const bat = batteryPower(s, b, nowMs, maxAge);
    return bat === undefined ? 0 : Math.max(0, bat - range.minW);
  })();
  const pvTotal = pv ? (pv.perPhase ? PHASES.reduce((sum, p) => sum + (pvAt(p) ?? 0), 0) : (pvAt() ?? 0)) : 0;
  const shares = pv ? pvPhaseShares(s, pv, nowMs, maxAge) : perPhase(() => 1 / 3);
  /** The change of one symmetric PV limit that brings every phase's excess to zero (< 0: the room to rise). */
  const pvCut = (excess: PerPhase): number => (pv?.phases === 1 ? worstOf(excess) : symmetricPvCut(excess, shares));
  const release = planRelease(st, { held: anyHeld && PHASES.every((p) => need[p] <= tol), headroomW, pvW: pvTotal, baseStepW: shift, nowMs });
  // Releasing: a phase within `tol` of the margin is at it (meter noise), nothing to absorb there.
  if (release.stepW > 0) for (const p of PHASES) need[p] = Math.min(need[p], 0);
  const absorbed = perPhase(() => 0);
  const room = perPhase((p) => Math.max(0, -need[p]));
  const room0 = { ...room };
  let shortfall = 0;
  let shifted = 0; // W the symmetric battery charges more so that held-back PV may rise
  const pvDone = new Set<Phase>();

  // 1. The battery first.
  if (b && range) {
    if (b.kind === 'battery-setpoint' && b.perPhase) {
      for (const p of PHASES) {
        const bat = batBase(b, p);
        if (bat === undefined) {
          notes.push(`${b.component} ${p} power not measured, not used`);
          continue;
        }
        // With per-phase PV too, battery and PV of this phase are planned together.
        const pvHere = pv?.perPhase ? pvAt(p) : undefined;
        const plan = absorb({
          needW: need[p],
          batteryW: bat,
          batteryMinW: range.minW / b.phases - off[p],
          pvW: pvHere,
          pvCurtailed: pvHeld(p),
          shiftStepW: release.stepW / b.phases,
        });
        bound(
          command.batteryPower(b, p),
          plan.batteryMaxW ?? bat,
          need[p] > 0 ? `${p} battery charges ${fmtW(bat - (plan.batteryMaxW ?? bat))} more` : `${p} battery may add ${fmtW((plan.batteryMaxW ?? bat) - bat)}`,
        );
        if (pv?.perPhase && pvHere !== undefined && plan.pvMaxW !== undefined) {
          bound(
            command.pvLimit(pv, p),
            plan.pvMaxW,
            plan.pvMaxW < pvHere ? `curtail ${p} PV by ${fmtW(pvHere - plan.pvMaxW)}` : `${p} PV may rise by ${fmtW(plan.pvMaxW - pvHere)}`,
            0,
          );
          pvDone.add(p);
          shortfall += plan.shortfallW;
        }
        absorbed[p] = Math.max(0, bat - (plan.batteryMaxW ?? bat));
        room[p] = 0; // the room went to the battery (and PV) of this phase
      }
      // A symmetric PV limit holding PV back (e.g. at 0 W after a night): with no phase exporting, each
      // phase's battery charges a third of `shift` more so that PV may rise by `shift` (found wiring the
      // cycle: without it a per-phase battery with a symmetric PV limit never released PV).
      // While releasing, the grid room is PV's too (feed-forward from the load: PV covers the import
      // rather than the battery discharging into it). A symmetric limit shares PV among the phases in
      // proportion to what each array produces, so each phase's battery charges its share of the step,
      // and PV may rise only as far as the tightest phase's room allows; the battery covers the rest.
      if (pv && !pv.perPhase && pvHeld() && release.stepW > 0) {
        const w = shares;
        const head = perPhase((p) => Math.max(0, (batteryPower(s, b, nowMs, maxAge, p) ?? range.minW / b.phases) - range.minW / b.phases));
        const step = Math.min(release.stepW, ...PHASES.map((p) => head[p] / w[p]));
        const pvRoom = -symmetricPvCut(
          perPhase((p) => -room0[p]),
          w,
        );
        for (const p of PHASES) {
          const bat = batBase(b, p);
          if (bat === undefined) continue;
          room[p] = pvRoom / 3; // read back below as 3 x the smallest room
          bound(
            command.batteryPower(b, p),
            bat - step * w[p] + (room0[p] - pvRoom * w[p]),
            `PV is held back: ${p} battery charges ${fmtW(step * w[p])} more so that PV may rise by as much${pvRoom > 0 ? `, and by the ${fmtW(pvRoom * w[p])} of this phase's import` : ''}`,
          );
        }
        shifted = step;
      }
    } else {
      const bat = batBase(b);
      if (bat === undefined) notes.push(`${b.component} power not measured, not used`);
      else {
        const worst = worstOf(need);
        const k = b.phases;
        if (worst > 0) {
          const plan = absorb({ needW: worst * k, batteryW: bat, batteryMinW: range.minW - offTotal, pvW: undefined, pvCurtailed: false, shiftStepW: shift });
          const took = bat - (plan.batteryMaxW ?? bat);
          bound(
            command.batteryPower(b),
            plan.batteryMaxW ?? bat,
            `symmetric battery charges ${fmtW(took)} more to hold the most-exporting phase at ${fmtW(margin)} import (${k} x ${fmtW(worst)})`,
          );
          for (const p of PHASES) absorbed[p] = took / k;
        } else {
          // A symmetric discharge may use the smallest room on every phase, unless PV is being held
          // back: then the room is PV's, and the battery charges `shift` more so that PV may rise by as much.
          const held = pv ? (pv.perPhase ? PHASES.some((p) => pvHeld(p)) : pvHeld()) : false;
          if (held && release.stepW > 0) {
            shifted = Math.min(release.stepW, Math.max(0, bat + offTotal - range.minW));
            bound(command.batteryPower(b), bat - shifted, `PV is held back: the battery charges ${fmtW(shifted)} more so that PV may rise by as much`);
          } else {
            const r = Math.min(room.L1, room.L2, room.L3);
            bound(command.batteryPower(b), bat + r * k, `a symmetric discharge may add ${fmtW(r)} per phase`);
            for (const p of PHASES) room[p] -= r;
          }
        }
      }
    }
  }

  // 2. PV curtailment takes what the battery did not.
  if (pv) {
    const residual = perPhase((p) => need[p] - absorbed[p]);
    if (pv.perPhase) {
      for (const p of PHASES) {
        if (pvDone.has(p)) continue;
        const now = pvAt(p) ?? 0;
        if (residual[p] > 0) {
          const cut = Math.min(residual[p], now);
          shortfall += residual[p] - cut;
          bound(command.pvLimit(pv, p), now - cut, `curtail ${p} PV by ${fmtW(cut)}`, 0);
        } else bound(command.pvLimit(pv, p), now + room[p] + shifted / 3, `${p} PV may rise by ${fmtW(room[p] + shifted / 3)}`, 0);
      }
    } else {
      const now = pvAt() ?? 0;
      // One limit for three phases moves each by its share of production; a single-phase inverter moves its phase.
      const worst = worstOf(residual);
      if (worst > 0) {
        const want = pvCut(residual);
        const cut = Math.min(want, now);
        shortfall += want - cut;
        bound(command.pvLimit(pv), now - cut, `symmetric PV curtailed by ${fmtW(cut)} (the most-exporting phase's ${fmtW(worst)} over its share)`, 0);
      } else {
        const r = -pvCut(perPhase((p) => -room[p])) + shifted;
        bound(command.pvLimit(pv), now + r, `PV may rise by ${fmtW(r)}`, 0);
      }
    }
  } else {
    shortfall = PHASES.reduce((sum, p) => sum + Math.max(0, need[p] - absorbed[p]), 0);
  }

  if (pv && night.state.night && night.state.holdW !== null) {
    // Night: the PV limit is held still (no probe, no limit following the load), battery bounds as computed.
    const hold = night.state.holdW;
    for (let i = proposals.length - 1; i >= 0; i--) if (proposals[i]?.target.startsWith(`${pv.component}/ActivePowerLimit`)) proposals.splice(i, 1);
    for (const p of pv.perPhase ? PHASES : [undefined])
      bound(command.pvLimit(pv, p), p ? hold / pv.phases : hold, `${night.why ?? 'night'}: PV limit held at ${fmtW(hold)}, not probed`, 0);
    notes.push(`${night.why ?? 'night'}; PV limit held at ${fmtW(hold)}, no probing`);
  }
  const exporting = PHASES.filter((p) => g.w[p] < 0);
  const detail = `${exporting.length ? `absorbing on ${exporting.join(', ')}` : 'no phase exports'}${notes.length ? `; ${notes.join('; ')}` : ''}`;
  // A shortfall is a failure of the objective; the best-effort bounds are still proposed.
  const next: ZeroExportState = pv
    ? {
        ...release.state,
        lastPvW: { total: pvTotal, L1: pvAt('L1') ?? pvTotal / 3, L2: pvAt('L2') ?? pvTotal / 3, L3: pvAt('L3') ?? pvTotal / 3 },
        night: night.state,
      }
    : release.state;
  if (shortfall > 0.5)
    return {
      proposals,
      state: next,
      status: { state: 'failed', reason: `${why}: ${fmtW(shortfall)} can be absorbed by neither battery nor PV, so a phase exports; ${detail}` },
    };
  return {
    proposals,
    state: next,
    status: { state: 'ok', detail: `${why}: ${detail}${release.stepW > 0 ? `; releasing ${fmtW(release.stepW)} of held-back PV` : ''}` },
  };
}
