import { command, type Battery } from '../edge/capabilities.js';
import { failed, fmtW, idle, ok, type ControllerResult, type Criticality, type Proposal } from '../edge/proposal.js';
import { fresh, type Snapshot } from '../edge/snapshot.js';
import { DEFAULT_MAX_AGE_MS, phasesOf } from './assets.js';
import { inWindow, windowProblem, type DailyWindow } from './time-window.js';
import { tenth } from '../util/text-number.js';

/**
 * Time-based charge schedules (docs/ems-modes.md, "Charge schedules": power schedules, multiple
 * entries, a local fallback): daily windows in the site's time zone, each with a battery power
 * (negative = charge, positive = discharge) and an SoC at which it stops. Every entry in force is
 * proposed; where windows overlap the resolver picks the least aggressive, never the list order.
 */
export interface ChargeScheduleEntry {
  readonly window: DailyWindow;
  readonly powerW: number;
  /** Charging stops at or above, discharging at or below this SoC. */
  readonly stopSocPct?: number;
}

export interface ChargeScheduleConfig {
  readonly id: string;
  readonly battery: Battery;
  readonly timeZone: string;
  readonly entries: readonly ChargeScheduleEntry[];
  readonly criticality?: Criticality;
  readonly maxAgeMs?: number;
}
export type ChargeScheduleState = Record<string, never>;
export const CHARGE_SCHEDULE_START: ChargeScheduleState = {};

export function chargeSchedule(s: Snapshot, cfg: ChargeScheduleConfig, st: ChargeScheduleState, nowMs: number): ControllerResult<ChargeScheduleState> {
  const problems = cfg.entries.map((e, i) => [i, windowProblem(e.window)] as const).filter(([, p]) => p !== null);
  if (problems.length) return failed(st, problems.map(([i, p]) => `entry ${i}: ${p}`).join('; '));
  const active = cfg.entries.filter((e) => inWindow(nowMs, cfg.timeZone, e.window));
  if (!active.length) return idle(st, 'no schedule window in force');
  const soc = fresh(s, `${cfg.battery.component}/Soc`, nowMs, cfg.maxAgeMs ?? DEFAULT_MAX_AGE_MS);
  const b = cfg.battery;
  const perPhase = b.kind === 'battery-setpoint' && b.perPhase;
  const proposals: Proposal[] = [];
  const skipped: string[] = [];
  for (const e of active) {
    const w = `${e.window.from}-${e.window.to}`;
    if (e.stopSocPct !== undefined) {
      if (soc === undefined) {
        skipped.push(`${w}: SoC not usable, its stop condition cannot be checked`);
        continue;
      }
      if ((e.powerW < 0 && soc >= e.stopSocPct) || (e.powerW > 0 && soc <= e.stopSocPct)) {
        skipped.push(`${w}: SoC ${tenth(soc)} % reached its stop at ${e.stopSocPct} %`);
        continue;
      }
    }
    const why = `schedule ${w}: ${fmtW(e.powerW)}`;
    for (const p of perPhase ? phasesOf(b.phases) : [undefined])
      proposals.push({
        kind: 'target',
        target: command.batteryPower(b, p),
        value: perPhase ? e.powerW / b.phases : e.powerW,
        criticality: cfg.criticality ?? 'optimisation',
        source: cfg.id,
        why,
      });
  }
  if (!proposals.length) return idle(st, skipped.join('; '));
  return ok(proposals, st, `${active.length} window(s) in force${skipped.length ? `; ${skipped.join('; ')}` : ''}`);
}
