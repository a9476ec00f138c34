import { command, type Battery, type GridMeter, type PvInverter } from '../edge/capabilities.js';
import { failed, fmtW, idle, type ControllerResult, type Criticality, type Proposal } from '../edge/proposal.js';
import type { Snapshot } from '../edge/snapshot.js';
import { absorb } from './absorb.js';
import { batteryOffset, batteryPower, batteryRange, DEFAULT_MAX_AGE_MS, gridPower, phasesOf, pvLimitNow, pvPower } from './assets.js';

/**
 * Peak shaving (docs/ems-modes.md): the grid stays within an import limit and an export limit. Both are
 * bounds on the battery (at least this much discharge / at most this much), computed by
 * feed-forward from the measured battery power: `battery >= measured + (grid - importLimit)`.
 * What the battery cannot absorb of an export excess is taken from PV. The import limit protects
 * demand charges (business by default); the export limit is a grid-code duty (supply quality).
 */
export interface PeakShavingConfig {
  readonly id: string;
  readonly grid: GridMeter;
  readonly battery?: Battery;
  readonly pv?: PvInverter;
  /** Highest import (W); none when absent. */
  readonly importLimitW?: number;
  /** Highest export (W, a magnitude >= 0); none when absent. */
  readonly exportLimitW?: number;
  readonly importCriticality?: Criticality;
  readonly exportCriticality?: Criticality;
  readonly shiftStepW?: number;
  readonly maxAgeMs?: number;
}

export type PeakShavingState = Record<string, never>;
export const PEAK_SHAVING_START: PeakShavingState = {};

export function peakShaving(s: Snapshot, cfg: PeakShavingConfig, st: PeakShavingState, nowMs: number): ControllerResult<PeakShavingState> {
  const maxAge = cfg.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  if (cfg.importLimitW === undefined && cfg.exportLimitW === undefined) return idle(st, 'peak shaving has neither an import nor an export limit configured');
  const g = gridPower(s, cfg.grid, nowMs, maxAge);
  if (!g.ok) return failed(st, `no usable grid power (${g.why}); assets left to the safe state`);
  const proposals: Proposal[] = [];
  const notes: string[] = [];
  const b = cfg.battery;
  const bat = b ? batteryPower(s, b, nowMs, maxAge) : undefined;
  if (b && bat === undefined) notes.push(`${b.component} power not measured, battery not used`);
  const range = b ? batteryRange(s, b, nowMs, maxAge) : undefined;
  const split = (b2: Battery, v: number, key: 'min' | 'max', criticality: Criticality, why: string): void => {
    const perPhase = b2.kind === 'battery-setpoint' && b2.perPhase;
    for (const p of perPhase ? phasesOf(b2.phases) : [undefined])
      proposals.push({ kind: 'bound', target: command.batteryPower(b2, p), [key]: perPhase ? v / b2.phases : v, criticality, source: cfg.id, why });
  };

  let status = `grid ${fmtW(g.w)}`;
  if (cfg.importLimitW !== undefined && b && bat !== undefined && range) {
    const min = bat + (g.w - cfg.importLimitW);
    const why = `peak shaving: grid ${fmtW(g.w)}, import limit ${fmtW(cfg.importLimitW)}`;
    split(b, min, 'min', cfg.importCriticality ?? 'business', why);
    if (min > range.maxW) notes.push(`import limit needs ${fmtW(min)} discharge, battery can give ${fmtW(range.maxW)}`);
    status += g.w > cfg.importLimitW ? `, ${fmtW(g.w - cfg.importLimitW)} over the import limit` : '';
  }
  let shortfall = 0;
  if (cfg.exportLimitW !== undefined) {
    const crit = cfg.exportCriticality ?? 'supply-quality';
    const why = `peak shaving: grid ${fmtW(g.w)}, export limit ${fmtW(cfg.exportLimitW)}`;
    const pv = cfg.pv;
    const pvNow = pv ? pvPower(s, pv, nowMs, maxAge) : undefined;
    if (pv && pvNow === undefined) notes.push(`${pv.component} production not usable, PV not steered`);
    const lim = pv ? pvLimitNow(s, pv, nowMs, maxAge) : undefined;
    const held = pv !== undefined && pvNow !== undefined && lim !== undefined && lim < pv.ratedW && pvNow >= lim - 50;
    // Planned without the droop's offset of last cycle (assets.ts batteryOffset): the battery bound is on the
    // value the classes choose, to which the resolver adds the offset again.
    const off = b ? batteryOffset(s, b, nowMs, maxAge) : 0;
    const plan = absorb({
      needW: -cfg.exportLimitW - (g.w + off),
      batteryW: bat === undefined ? undefined : bat - off,
      batteryMinW: (range?.minW ?? 0) - off,
      pvW: pvNow,
      pvCurtailed: held,
      shiftStepW: cfg.shiftStepW ?? 500,
    });
    if (b && plan.batteryMaxW !== undefined) split(b, plan.batteryMaxW, 'max', crit, why);
    if (pv && plan.pvMaxW !== undefined)
      proposals.push({ kind: 'bound', target: command.pvLimit(pv), min: 0, max: plan.pvMaxW, criticality: crit, source: cfg.id, why });
    shortfall = plan.shortfallW;
    status += -g.w > cfg.exportLimitW ? `, ${fmtW(-g.w - cfg.exportLimitW)} over the export limit` : '';
  }
  if (proposals.length === 0) return failed(st, `peak shaving has nothing to act with (${notes.join('; ') || 'no battery or PV configured'})`);
  const text = `${status}${notes.length ? `; ${notes.join('; ')}` : ''}`;
  if (shortfall > 0.5) return { proposals, state: st, status: { state: 'failed', reason: `${text}; ${fmtW(shortfall)} of export cannot be absorbed` } };
  return { proposals, state: st, status: { state: 'ok', detail: text } };
}
