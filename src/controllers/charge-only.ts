import { command, type Battery } from '../edge/capabilities.js';
import { fmtW, failed, idle, ok, type ControllerResult, type Criticality, type Proposal } from '../edge/proposal.js';
import { fresh, type Snapshot } from '../edge/snapshot.js';
import { DEFAULT_MAX_AGE_MS, phasesOf } from './assets.js';
import { inWindow, windowProblem, type DailyWindow } from './time-window.js';
import { tenth } from '../util/text-number.js';

/** Charge only (docs/ems-modes.md): charge the battery at a set rate up to an SoC target, inside a schedule window. */
export interface ChargeOnlyConfig {
  readonly id: string;
  readonly battery: Battery;
  readonly socTargetPct: number;
  /** Charge power (W, a magnitude). */
  readonly rateW: number;
  /** When charging is allowed; always when absent. */
  readonly window?: DailyWindow;
  readonly timeZone: string;
  /** Charging stops at the target and restarts below target - hysteresis (percentage points); 2 by default. */
  readonly hysteresisPct?: number;
  readonly criticality?: Criticality;
  readonly maxAgeMs?: number;
}

export interface ChargeOnlyState {
  readonly charging: boolean;
}
export const CHARGE_ONLY_START: ChargeOnlyState = { charging: false };

export function chargeOnly(s: Snapshot, cfg: ChargeOnlyConfig, st: ChargeOnlyState, nowMs: number): ControllerResult<ChargeOnlyState> {
  if (cfg.window) {
    const problem = windowProblem(cfg.window);
    if (problem) return failed({ charging: false }, problem);
    if (!inWindow(nowMs, cfg.timeZone, cfg.window)) return idle({ charging: false }, `outside the charge window ${cfg.window.from}-${cfg.window.to}`);
  }
  const soc = fresh(s, `${cfg.battery.component}/Soc`, nowMs, cfg.maxAgeMs ?? DEFAULT_MAX_AGE_MS);
  if (soc === undefined) return failed({ charging: false }, `${cfg.battery.component}/Soc not usable; not charging blind`);
  const resume = cfg.socTargetPct - (cfg.hysteresisPct ?? 2);
  const charging = st.charging ? soc < cfg.socTargetPct : soc < resume;
  if (!charging)
    return idle(
      { charging },
      `SoC ${tenth(soc)} % has reached the target ${cfg.socTargetPct} %${st.charging ? '' : ` (charging resumes below ${tenth(resume)} %)`}`,
    );
  const b = cfg.battery;
  const why = `charge only: SoC ${soc} % -> ${cfg.socTargetPct} % at ${fmtW(cfg.rateW)}`;
  const criticality = cfg.criticality ?? 'business';
  const perPhase = b.kind === 'battery-setpoint' && b.perPhase;
  const proposals: Proposal[] = (perPhase ? phasesOf(b.phases) : [undefined]).map((p) => ({
    kind: 'target',
    target: command.batteryPower(b, p),
    value: -cfg.rateW / (perPhase ? b.phases : 1),
    criticality,
    source: cfg.id,
    why,
  }));
  return ok(proposals, { charging }, why);
}
