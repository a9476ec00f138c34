import { command, evMinW, PHASES, type Battery, type EvCharger, type GridMeter, type Phase, type PvInverter, type Relay } from '../edge/capabilities.js';
import { failed, fmtW, type ControllerResult, type Criticality, type Proposal } from '../edge/proposal.js';
import { fresh, read, type Snapshot } from '../edge/snapshot.js';
import { EVALUATED_CHANNEL, UTILITY_CHANNEL, UTILITY_COMPONENT } from '../csip/utility-channels.js';
import { EV_CHANNEL } from '../ocpp/ev-channels.js';
import { siteLoadW } from '../csip/site-load.js';
import { absorb } from './absorb.js';
import { splitCorrection } from './ev-share.js';
import {
  batteryOffset,
  batteryPower,
  batteryRange,
  DEFAULT_MAX_AGE_MS,
  gridPhases,
  gridPower,
  phasesOf,
  pvLimitNow,
  pvPhaseShares,
  pvPower,
} from './assets.js';
import { planPhaseExport } from './export-per-phase.js';

/** The step by which held-back PV may rise while the battery makes room for it near the export limit (W). */
const UTILITY_SHIFT_STEP_W = 500;
/**
 * The utility's limits (docs/csip.md "On the site"): the `utility/*` channels the 2030.5 client writes
 * become bounds, in a class above business and optimisation (supply quality by default), so a site's
 * own peak shaving or self-consumption chooses only within them, and the safety envelope (safety
 * class) still wins where they contradict. Bounds of one class intersect, so the most restrictive of
 * the utility's limit and the site's own export limit (zero export, peak shaving) holds.
 *
 * - Export limit: the battery charges first, PV is curtailed for the rest (absorb.ts, feed-forward from
 *   measured grid, battery and PV power), with `marginW` kept inside the limit. With `exportPerPhase`,
 *   each phase holds its share too (export-per-phase.ts).
 * - Generation limit: PV production plus battery discharge stay under it.
 * - MaxLimitPct: PV at most that share of its rating.
 * - Import limit: EV charging is reduced first (each car's limit, ev-share.ts), the battery
 *   discharges the rest, at least `measured + (grid - limit) - what the cars gave`; what neither can
 *   give for `shedAfterMs` opens the next non-critical relay (role `shed`, never `critical`), one at a
 *   time; with the import `restoreMarginW` under the limit for `restoreAfterMs` the last one is
 *   commanded closed (for `RESTORE_HOLD_MS`: without a command a relay stays as last written).
 * - Load limit: the site's consumption (site-load.ts: grid import plus PV and battery discharge, so its
 *   loads and battery charging) stays under it. EV charging is reduced first, battery charging next
 *   (discharging would not lower what the site consumes); what neither gives sheds non-critical relays
 *   by the same stages as the import limit (one list for both limits: a relay more while either is
 *   short, one back when both are `restoreMarginW` under). A limit lifted restores the shed relays by
 *   the same steps. Set `restoreMarginW` above the largest shed load, or a restored load trips the limit
 *   again.
 * - Storage target (CSIP-AUS v1.3 opModStorageTargetW, discharge positive): a target for the battery's
 *   power in the same class, so the resolver holds it inside the other utility limits in force (an
 *   export limit wins over a discharge target, an import limit over a charge target) and inside the
 *   safety envelope (SoC window, ratings, BMS); where it cannot be met the status says by how much and why.
 * - Connect or Energize = 0: PV at 0 and the battery idle.
 * Without a usable `utility/Evaluated` (no client, or it stopped) the controller proposes nothing and
 * says so; the other controllers and the envelope keep the site as configured.
 */
export interface UtilityLimitsConfig {
  readonly id: string;
  readonly grid: GridMeter;
  readonly battery?: Battery;
  readonly pv?: PvInverter;
  /** Non-critical relays, in the order they are shed. */
  readonly shed?: readonly Relay[];
  /** EV chargers: reduced before the battery and before shedding under the import and load limits. */
  readonly ev?: readonly EvCharger[];
  /** How old a charger's reported power may be (ms): chargers report every minute or so. */
  readonly evMaxAgeMs?: number;
  readonly marginW?: number;
  /**
   * The export limit holds on each phase (SA Power Networks' flexible exports): each phase's export at
   * most `exportPhaseLimitW`, or the limit divided by 3, and never more than the limit. Needs a grid
   * meter read per phase.
   */
  readonly exportPerPhase?: boolean;
  readonly exportPhaseLimitW?: number;
  readonly shedAfterMs?: number;
  readonly restoreAfterMs?: number;
  readonly restoreMarginW?: number;
  readonly criticality?: Criticality;
  readonly maxAgeMs?: number;
}

export interface UtilityLimitsState {
  /** Relays opened for the import or load limit, in the order opened. */
  readonly shed: readonly string[];
  readonly overSinceMs: number | null;
  readonly underSinceMs: number | null;
  /** Relays restored, with until when their close command is repeated (a state from before has none). */
  readonly restoring?: Readonly<Record<string, number>>;
}
export const UTILITY_LIMITS_START: UtilityLimitsState = { shed: [], overSinceMs: null, underSinceMs: null, restoring: {} };
/**
 * How long a restored relay's close is proposed (ms): the relay stays as last written once nobody
 * proposes anything for it, so opening needs the bound and closing again needs a command.
 */
const RESTORE_HOLD_MS = 10_000;

const limit = (s: Snapshot, q: keyof typeof UTILITY_CHANNEL, nowMs: number, maxAge: number): number | undefined =>
  fresh(s, `${UTILITY_COMPONENT}/${UTILITY_CHANNEL[q]}`, nowMs, maxAge);

export function utilityLimits(s: Snapshot, cfg: UtilityLimitsConfig, st: UtilityLimitsState, nowMs: number): ControllerResult<UtilityLimitsState> {
  const maxAge = cfg.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const crit = cfg.criticality ?? 'supply-quality';
  const margin = cfg.marginW ?? 25;
  const evaluated = read(s, `${UTILITY_COMPONENT}/${EVALUATED_CHANNEL}`, nowMs, maxAge);
  if (!evaluated.ok) return failed(st, `no utility limits to apply (${evaluated.why}); the site keeps its own limits`);
  const exp = limit(s, 'opModExpLimW', nowMs, maxAge);
  const gen = limit(s, 'opModGenLimW', nowMs, maxAge);
  const imp = limit(s, 'opModImpLimW', nowMs, maxAge);
  const load = limit(s, 'opModLoadLimW', nowMs, maxAge);
  const maxPct = limit(s, 'opModMaxLimW', nowMs, maxAge);
  const storage = limit(s, 'opModStorageTargetW', nowMs, maxAge);
  const connect = limit(s, 'opModConnect', nowMs, maxAge);
  const energize = limit(s, 'opModEnergize', nowMs, maxAge);

  const proposals: Proposal[] = [];
  const b = cfg.battery;
  const pv = cfg.pv;
  const bound = (target: string, why: string, min?: number, max?: number): void => {
    proposals.push({
      kind: 'bound',
      target,
      ...(min !== undefined ? { min } : {}),
      ...(max !== undefined ? { max } : {}),
      criticality: crit,
      source: cfg.id,
      why,
    });
  };
  // The tightest battery bounds this controller proposes (total W), to say why a storage target is not met.
  let batLo = { w: -Infinity, why: '' };
  let batHi = { w: Infinity, why: '' };
  const batteryBound = (why: string, min?: number, max?: number): void => {
    if (!b) return;
    if (min !== undefined && min > batLo.w) batLo = { w: min, why };
    if (max !== undefined && max < batHi.w) batHi = { w: max, why };
    const perPhase = b.kind === 'battery-setpoint' && b.perPhase;
    const n = perPhase ? b.phases : 1;
    for (const p of perPhase ? phasesOf(b.phases) : [undefined])
      bound(command.batteryPower(b, p), why, min === undefined ? undefined : min / n, max === undefined ? undefined : max / n);
  };
  const inForce = [
    exp !== undefined ? `export ${fmtW(exp)}` : '',
    gen !== undefined ? `generation ${fmtW(gen)}` : '',
    imp !== undefined ? `import ${fmtW(imp)}` : '',
    load !== undefined ? `load ${fmtW(load)}` : '',
    maxPct !== undefined ? `max ${maxPct} %` : '',
    storage !== undefined ? `storage target ${targetText(storage)}` : '',
  ].filter(Boolean);

  if (connect === 0 || energize === 0) {
    const why = `the utility asks the DER to ${connect === 0 ? 'disconnect' : 'de-energise'}`;
    if (pv) bound(command.pvLimit(pv), why, 0, 0);
    batteryBound(why, 0, 0);
    return { proposals, state: { ...st, overSinceMs: null, underSinceMs: null }, status: { state: 'ok', detail: `${why}: PV at 0, battery idle` } };
  }
  // Relays shed for a limit since lifted still come back one at a time (below), not all at once.
  const closing = Object.values(st.restoring ?? {}).some((until) => until > nowMs);
  if (inForce.length === 0 && st.shed.length === 0 && !closing)
    return { proposals, state: st, status: { state: 'idle', reason: 'the utility sets no limit now' } };

  const g = gridPower(s, cfg.grid, nowMs, maxAge);
  if (!g.ok) return failed(st, `no usable grid power (${g.why}); utility limits (${inForce.join(', ')}) left to the safe state`);
  const bat = b ? batteryPower(s, b, nowMs, maxAge) : undefined;
  const range = b ? batteryRange(s, b, nowMs, maxAge) : { minW: 0, maxW: 0 };
  const pvNow = pv ? pvPower(s, pv, nowMs, maxAge) : undefined;
  const notes: string[] = [];
  let problem: string | undefined;

  if (exp !== undefined) {
    const lim = pv ? pvLimitNow(s, pv, nowMs, maxAge) : undefined;
    const held = pv !== undefined && pvNow !== undefined && lim !== undefined && lim < pv.ratedW && pvNow >= lim - 50;
    // Planned without the droop's offset of last cycle (assets.ts batteryOffset): the battery bound is on the
    // value the classes choose, to which the resolver adds the offset again.
    const offAt = (p?: Phase): number => (b ? batteryOffset(s, b, nowMs, maxAge, p) : 0);
    const off = offAt();
    const needTotalW = -(exp - margin) - (g.w + off);
    const phases = cfg.exportPerPhase ? gridPhases(s, cfg.grid, nowMs, maxAge) : undefined;
    if (phases?.ok) {
      // Each phase at most its share (export-per-phase.ts), the total at most the limit.
      const share = Math.min(exp, cfg.exportPhaseLimitW ?? exp / 3);
      const why = `utility export limit ${fmtW(exp)} per phase ${fmtW(share)}: ${PHASES.map((p) => `${p} ${fmtW(phases.w[p])}`).join(', ')}`;
      const perPhaseBattery = b?.kind === 'battery-setpoint' && b.perPhase && b.phases === 3 ? b : undefined;
      const plan = planPhaseExport({
        needTotalW,
        needW: {
          L1: -(share - margin) - (phases.w.L1 + offAt('L1')),
          L2: -(share - margin) - (phases.w.L2 + offAt('L2')),
          L3: -(share - margin) - (phases.w.L3 + offAt('L3')),
        },
        ...(perPhaseBattery
          ? {
              batteryPhaseW: {
                L1: minus(batteryPower(s, perPhaseBattery, nowMs, maxAge, 'L1'), offAt('L1')),
                L2: minus(batteryPower(s, perPhaseBattery, nowMs, maxAge, 'L2'), offAt('L2')),
                L3: minus(batteryPower(s, perPhaseBattery, nowMs, maxAge, 'L3'), offAt('L3')),
              },
            }
          : {}),
        batteryW: minus(bat, off),
        batteryMinW: range.minW - off,
        pvW: pvNow,
        pvCurtailed: held,
        ...(pv ? { pvShares: pvPhaseShares(s, pv, nowMs, maxAge) } : {}),
      });
      if (perPhaseBattery)
        for (const p of PHASES) {
          const max = plan.batteryPhaseMaxW?.[p];
          if (max !== undefined) bound(command.batteryPower(perPhaseBattery, p), why, undefined, max);
        }
      else if (plan.batteryMaxW !== undefined) batteryBound(why, undefined, plan.batteryMaxW);
      if (pv && plan.pvMaxW !== undefined) bound(command.pvLimit(pv), why, 0, plan.pvMaxW);
      if (plan.shortfallW > 0.5) problem = `${fmtW(plan.shortfallW)} of export above the utility's per-phase limit cannot be absorbed`;
    } else {
      const why = `utility export limit ${fmtW(exp)}: grid ${fmtW(g.w)}`;
      // Held-back PV needs the battery to make room only near the limit: a step of room or more lets PV
      // rise on its own (a 5 kW limit while the site imports must not hold the battery down every cycle).
      const nearLimit = needTotalW > -UTILITY_SHIFT_STEP_W;
      const plan = absorb({
        needW: needTotalW,
        batteryW: minus(bat, off),
        batteryMinW: range.minW - off,
        pvW: pvNow,
        pvCurtailed: held && nearLimit,
        shiftStepW: UTILITY_SHIFT_STEP_W,
      });
      if (plan.batteryMaxW !== undefined) batteryBound(why, undefined, plan.batteryMaxW);
      if (pv && plan.pvMaxW !== undefined) bound(command.pvLimit(pv), why, 0, plan.pvMaxW);
      if (plan.shortfallW > 0.5) problem = `${fmtW(plan.shortfallW)} of export above the utility's limit cannot be absorbed`;
      if (phases) problem = `${problem ? `${problem}; ` : ''}the per-phase export limit needs per-phase grid power (${phases.why}): the total is held`;
    }
  }
  if (gen !== undefined) {
    const why = `utility generation limit ${fmtW(gen)}`;
    if (pv) bound(command.pvLimit(pv), why, 0, Math.max(0, gen - Math.max(0, bat ?? 0)));
    if (b) batteryBound(why, undefined, Math.max(0, gen - Math.max(0, pvNow ?? 0)));
  }
  if (maxPct !== undefined && pv) bound(command.pvLimit(pv), `utility limit of ${maxPct} % of rated power`, 0, (pv.ratedW * maxPct) / 100);
  const evAge = cfg.evMaxAgeMs ?? 120_000;
  const evs = (cfg.ev ?? []).filter((c) => fresh(s, `${c.component}/${EV_CHANNEL.transaction}`, nowMs, evAge) !== undefined);
  const evIn = evs.map((c) => ({ w: Math.max(0, fresh(s, `${c.component}/${EV_CHANNEL.power}`, nowMs, evAge) ?? 0), minW: evMinW(c), maxW: c.maxW }));
  const evTotal = evIn.reduce((n, e) => n + e.w, 0);
  const evBounds = (why: string, max: readonly number[]): void => evs.forEach((c, i) => bound(command.evLimit(c), why, 0, max[i] ?? 0));
  // The load limit: the site's consumption (site-load.ts) at most the limit; the cars give first, then
  // battery charging, and what is left sheds non-critical relays as under the import limit.
  let loadW: number | undefined;
  let loadShortfall = 0;
  if (load !== undefined) {
    const why = `utility load limit ${fmtW(load)}`;
    const unmeasured = [pv && pvNow === undefined ? `${pv.component} power` : '', b && bat === undefined ? `${b.component} power` : ''].filter(Boolean);
    loadW = unmeasured.length ? undefined : siteLoadW(g.w, pvNow === undefined ? [] : [pvNow], bat === undefined ? [] : [bat]);
    const charge = Math.max(0, -(bat ?? 0));
    const controllable = charge + evTotal;
    const excess = loadW === undefined ? controllable - load : Math.max(controllable - load, loadW - (load - margin));
    // Room under the limit is shared with the battery only while it charges: an idle battery would
    // otherwise hold half of it, and a paused car would never get its minimum back under a small limit.
    const split = splitCorrection(excess, evIn, b !== undefined && charge > 0.5);
    const chargeCut = Math.min(charge, Math.max(0, split.batteryW));
    evBounds(`${why}: EV charging reduced first`, split.evMaxW);
    // Over the limit the battery gives what the cars could not; under it, it may take what they do not.
    const evTake = split.evMaxW.reduce((n, m, i) => n + Math.max(0, m - (evIn[i]?.w ?? 0)), 0);
    const chargeMax = Math.min(load, excess > 0 ? Math.max(0, charge - split.batteryW) : charge + Math.max(0, -excess - evTake));
    if (b) batteryBound(`${why}: battery charging at most ${fmtW(chargeMax)}`, chargeMax > 0 ? -chargeMax : 0, undefined);
    if (split.evReductionW > 0.5) notes.push(`EV charging reduced by ${fmtW(split.evReductionW)} for the load limit`);
    if (chargeCut > 0.5) notes.push(`battery charging reduced by ${fmtW(chargeCut)} for the load limit`);
    if (loadW === undefined) notes.push(`site load not measured (${unmeasured.join(', ')} missing): only EV and battery charging are bounded`);
    else loadShortfall = loadW - split.evReductionW - chargeCut - load;
  }

  let importShortfall = 0;
  if (imp !== undefined) {
    const why = `utility import limit ${fmtW(imp)}: grid ${fmtW(g.w)}`;
    const excess = g.w - (imp - margin);
    const split = splitCorrection(excess, evIn, b !== undefined && bat !== undefined);
    evBounds(`${why}: EV charging reduced before the battery and before shedding`, split.evMaxW);
    if (split.evReductionW > 0.5) notes.push(`EV charging reduced by ${fmtW(split.evReductionW)}`);
    importShortfall = excess - split.evReductionW - margin;
    if (b && bat !== undefined) {
      const min = bat + split.batteryW;
      batteryBound(why, Math.min(min, range.maxW), undefined);
      importShortfall = min - range.maxW;
    } else if (b) notes.push(`${b.component} power not measured, battery not used`);
  }

  // One staged shedding for both limits: a relay more while either is short, one back when both are
  // well under (an unmeasured site load is never "well under").
  const restoreMargin = cfg.restoreMarginW ?? 500;
  const wellUnder = (imp === undefined || g.w < imp - restoreMargin) && (load === undefined || (loadW !== undefined && loadW < load - restoreMargin));
  const staged = shedding(st, cfg, Math.max(importShortfall, loadShortfall), wellUnder, nowMs);
  const restoring: Record<string, number> = {};
  for (const [r, until] of Object.entries(st.restoring ?? {})) if (until > nowMs && !staged.shed.includes(r)) restoring[r] = until;
  for (const r of st.shed) if (!staged.shed.includes(r)) restoring[r] = nowMs + RESTORE_HOLD_MS;
  const state: UtilityLimitsState = { ...staged, restoring };
  const shedFor = [importShortfall > 0.5 ? 'import' : '', loadShortfall > 0.5 ? 'load' : ''].filter(Boolean).join(' and ');
  const relayWhy = shedFor
    ? `utility ${shedFor} limit: non-critical load shed (EV and battery cannot cover it)`
    : `non-critical load kept shed until the site is ${fmtW(restoreMargin)} under the utility's limits for ${Math.round((cfg.restoreAfterMs ?? 30_000) / 1000)} s, then restored one at a time`;
  for (const r of state.shed) bound(command.relayClosed({ component: r }), relayWhy, 0, 0);
  for (const r of Object.keys(restoring).sort())
    proposals.push({
      kind: 'target',
      target: command.relayClosed({ component: r }),
      value: 1,
      criticality: crit,
      source: cfg.id,
      why: 'load shed for a utility limit restored',
    });
  if (state.shed.length) notes.push(`shed ${state.shed.join(', ')}`);
  const left = (cfg.shed ?? []).filter((r) => r.role === 'shed' && !state.shed.includes(r.component)).length;
  const short = (msg: string): void => {
    if (left === 0) problem = problem ? `${problem}; ${msg}, nothing left to shed` : `${msg}, nothing left to shed`;
    else notes.push(`${msg}; shedding after ${Math.round((cfg.shedAfterMs ?? 5000) / 1000)} s`);
  };
  if (importShortfall > 0.5) short(`${fmtW(importShortfall)} of import above the utility's limit not covered by the battery`);
  if (loadShortfall > 0.5) short(`${fmtW(loadShortfall)} of site load above the utility's load limit after EV and battery charging`);
  if (storage !== undefined) {
    if (b) {
      const perPhase = b.kind === 'battery-setpoint' && b.perPhase;
      const n = perPhase ? b.phases : 1;
      for (const p of perPhase ? phasesOf(b.phases) : [undefined])
        proposals.push({
          kind: 'target',
          target: command.batteryPower(b, p),
          value: storage / n,
          criticality: crit,
          source: cfg.id,
          why: `utility storage target ${targetText(storage)}`,
        });
      const miss = storageShortfall(storage, batLo, batHi, range);
      if (miss) notes.push(miss);
    } else notes.push(`storage target ${targetText(storage)} not carried out: no battery to steer`);
  }
  const text = `${inForce.length ? `${inForce.join(', ')} in force` : 'no utility limit in force'}; grid ${fmtW(g.w)}${loadW !== undefined ? `, site load ${fmtW(loadW)}` : ''}${notes.length ? `; ${notes.join('; ')}` : ''}`;
  if (problem) return { proposals, state, status: { state: 'failed', reason: `${text}; ${problem}` } };
  return { proposals, state, status: { state: 'ok', detail: text } };
}

const targetText = (w: number): string => (w >= 0 ? `discharge ${fmtW(w)}` : `charge ${fmtW(-w)}`);

/** Where the storage target lies outside what the other utility limits and the battery allow: how far it gets and why; undefined when it can be met. */
function storageShortfall(
  target: number,
  lo: { readonly w: number; readonly why: string },
  hi: { readonly w: number; readonly why: string },
  range: { readonly minW: number; readonly maxW: number },
): string | undefined {
  const top = Math.min(hi.w, range.maxW);
  const bottom = Math.max(lo.w, range.minW);
  if (target > top + 0.5) {
    const why = hi.w <= range.maxW ? hi.why : `the battery allows at most ${fmtW(range.maxW)} discharge`;
    return `storage target ${targetText(target)} cannot be met: ${top >= 0 ? `discharge at most ${fmtW(top)}` : `charge at least ${fmtW(-top)}`} (${why})`;
  }
  if (target < bottom - 0.5) {
    const why = lo.w >= range.minW ? lo.why : `the battery allows at most ${fmtW(-range.minW)} charge`;
    return `storage target ${targetText(target)} cannot be met: ${bottom <= 0 ? `charge at most ${fmtW(-bottom)}` : `discharge at least ${fmtW(bottom)}`} (${why})`;
  }
  return undefined;
}

const minus = (w: number | undefined, off: number): number | undefined => (w === undefined ? undefined : w - off);

/** One relay more after `shedAfterMs` short of a limit, one back after `restoreAfterMs` well under. */
function shedding(st: UtilityLimitsState, cfg: UtilityLimitsConfig, shortfallW: number, wellUnder: boolean, nowMs: number): UtilityLimitsState {
  const candidates = (cfg.shed ?? []).filter((r) => r.role === 'shed').map((r) => r.component);
  if (shortfallW > 0.5) {
    const since = st.overSinceMs ?? nowMs;
    const next = candidates.find((c) => !st.shed.includes(c));
    if (next && nowMs - since >= (cfg.shedAfterMs ?? 5000)) return { shed: [...st.shed, next], overSinceMs: nowMs, underSinceMs: null };
    return { ...st, overSinceMs: since, underSinceMs: null };
  }
  if (st.shed.length && wellUnder) {
    const since = st.underSinceMs ?? nowMs;
    if (nowMs - since >= (cfg.restoreAfterMs ?? 30_000)) return { shed: st.shed.slice(0, -1), overSinceMs: null, underSinceMs: nowMs };
    return { ...st, overSinceMs: null, underSinceMs: since };
  }
  return { ...st, overSinceMs: null, underSinceMs: null };
}
