import { command, type Battery, type Relay } from '../edge/capabilities.js';
import { fmtW, ok, type ControllerResult, type Criticality, type Proposal } from '../edge/proposal.js';
import { fresh, type Snapshot } from '../edge/snapshot.js';
import { batteryRange, DEFAULT_MAX_AGE_MS, phasesOf } from './assets.js';
import { planStages, stepIslanded, stepOnGrid, type ShedStage, type StageState } from './shed-stages.js';
import { tenth } from '../util/text-number.js';

/**
 * Backup reserve (docs/ems-modes.md, "Backup / grid forming"): on grid, the battery keeps an SoC floor for
 * outages (it may not discharge below it) and, with `rechargeW`, is recharged from the grid back to it
 * when it fell below (by `rechargeHysteresisPct`): a bound "charge at least rechargeW" in the business
 * class by default, so the site's import limits (peak shaving, same class: the least intervention wins;
 * the utility's, supply quality) cap it, and self-consumption may charge more from PV.
 * When the grid is lost for `confirmMs`, the site islands (the PCC relay opens) and non-critical loads are
 * shed in stages as the SoC falls (shed-stages.ts: stage 1 at the floor, the next toward `minSocPct`,
 * hysteresis and a minimum dwell, restored in reverse when the SoC recovers). When the grid has been back
 * and stable for `returnStableMs`, the site reconnects and the stages come back, last shed first,
 * `restoreStepMs` apart. Islanding and emergency load shedding are safety-critical
 * (docs/ems-modes.md#criticality); keeping the reserve and restoring loads are supply quality.
 *
 * Grid state comes from the grid meter's frequency (and voltage when configured). When it cannot be
 * read, nothing changes: the site is never islanded nor reconnected blind.
 */
export interface BackupReserveConfig {
  readonly id: string;
  readonly battery: Battery;
  readonly floorPct: number;
  /** `grid/Frequency` by default. */
  readonly frequencyChannel?: string;
  /** E.g. `grid/Voltage_L1`; a voltage below `minVoltageV` counts as grid loss. */
  readonly voltageChannel?: string;
  readonly minVoltageV?: number;
  readonly minHz?: number;
  readonly maxHz?: number;
  readonly confirmMs?: number;
  readonly returnStableMs?: number;
  /** How long after reconnecting (or restoring a stage) the close commands are repeated. */
  readonly restoreHoldMs?: number;
  readonly pcc?: Relay;
  /** Non-critical relays in the order they are shed (one stage each) unless `shedStages` groups them. */
  readonly shed?: readonly Relay[];
  readonly shedStages?: readonly ShedStage[];
  /** The SoC the last stage is shed toward (%): the battery's safety minimum. 10 by default. */
  readonly minSocPct?: number;
  /** A stage comes back while islanded when the SoC is this far above its threshold (%). 5 by default. */
  readonly shedHysteresisPct?: number;
  /** Least time between two stage moves while islanded (ms). 30 s by default. */
  readonly shedDwellMs?: number;
  /** Time between restoring two stages after reconnection (ms). 2 s by default. */
  readonly restoreStepMs?: number;
  /** Grid charging rate back to the floor (W); none by default. */
  readonly rechargeW?: number;
  /** Recharging starts this far below the floor (%). 1 by default. */
  readonly rechargeHysteresisPct?: number;
  readonly rechargeCriticality?: Criticality;
  readonly reserveCriticality?: Criticality;
  readonly maxAgeMs?: number;
}

export type GridMode = 'on-grid' | 'loss-suspected' | 'islanded' | 'return-pending';
export interface GridState {
  readonly mode: GridMode;
  readonly sinceMs: number;
  /** Until when the PCC close is still proposed after a reconnection. */
  readonly restoringUntilMs: number | null;
}
export interface BackupReserveState extends GridState {
  readonly stages: StageState;
  /** Relays of restored stages, with until when their close command is repeated. */
  readonly restoring: Readonly<Record<string, number>>;
  readonly recharging: boolean;
}
export const BACKUP_START: BackupReserveState = {
  mode: 'on-grid',
  sinceMs: 0,
  restoringUntilMs: null,
  stages: { shed: 0, changedMs: null },
  restoring: {},
  recharging: false,
};

function gridPresent(s: Snapshot, cfg: BackupReserveConfig, nowMs: number): boolean | undefined {
  const maxAge = cfg.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const f = fresh(s, cfg.frequencyChannel ?? 'grid/Frequency', nowMs, maxAge);
  if (f === undefined) return undefined;
  if (f < (cfg.minHz ?? 47) || f > (cfg.maxHz ?? 52)) return false;
  if (cfg.voltageChannel) {
    const v = fresh(s, cfg.voltageChannel, nowMs, maxAge);
    if (v === undefined) return undefined;
    if (v < (cfg.minVoltageV ?? 180)) return false;
  }
  return true;
}

export function nextGridMode(st: GridState, present: boolean, cfg: BackupReserveConfig, nowMs: number): GridState {
  const confirm = cfg.confirmMs ?? 2_000;
  const stable = cfg.returnStableMs ?? 60_000;
  const to = (mode: GridMode): GridState => ({
    mode,
    sinceMs: nowMs,
    restoringUntilMs: mode === 'on-grid' ? nowMs + (cfg.restoreHoldMs ?? 10_000) : null,
  });
  switch (st.mode) {
    case 'on-grid':
      if (present) return st;
      return confirm <= 0 ? to('islanded') : { mode: 'loss-suspected', sinceMs: nowMs, restoringUntilMs: null };
    case 'loss-suspected':
      if (present) return { ...st, mode: 'on-grid', restoringUntilMs: null };
      return nowMs - st.sinceMs >= confirm ? to('islanded') : st;
    case 'islanded':
      return present ? { mode: 'return-pending', sinceMs: nowMs, restoringUntilMs: null } : st;
    case 'return-pending':
      if (!present) return { mode: 'islanded', sinceMs: nowMs, restoringUntilMs: null };
      return nowMs - st.sinceMs >= stable ? to('on-grid') : st;
  }
}

const defaultStages = (cfg: BackupReserveConfig): readonly ShedStage[] => cfg.shedStages ?? (cfg.shed ?? []).map((r) => ({ relays: [r] }));

export function backupReserve(s: Snapshot, cfg: BackupReserveConfig, st0: BackupReserveState, nowMs: number): ControllerResult<BackupReserveState> {
  // A state from before staged shedding (a kept controller after an upgrade) starts with nothing shed.
  const st: BackupReserveState = { ...BACKUP_START, ...st0 };
  const maxAge = cfg.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const present = gridPresent(s, cfg, nowMs);
  const grid = present === undefined ? st : nextGridMode(st, present, cfg, nowMs);
  const soc = fresh(s, `${cfg.battery.component}/Soc`, nowMs, maxAge);
  const stages = planStages(defaultStages(cfg), cfg.floorPct, cfg.minSocPct ?? 10);
  const islandedNow = grid.mode === 'islanded' || grid.mode === 'return-pending';
  // Islanding starts a new outage: the first stage is not held back by a move made before it.
  let stageState: StageState =
    grid.mode === 'islanded' && st.mode !== 'islanded' && st.mode !== 'return-pending' ? { ...st.stages, changedMs: null } : st.stages;
  // Reconnected: the first stage comes back `restoreStepMs` after the PCC closed.
  if (grid.mode === 'on-grid' && st.mode === 'return-pending') stageState = { ...stageState, changedMs: nowMs };
  const step = islandedNow
    ? soc === undefined
      ? { state: stageState, restored: [], why: null }
      : stepIslanded(stageState, soc, stages, { hysteresisPct: cfg.shedHysteresisPct ?? 5, dwellMs: cfg.shedDwellMs ?? 30_000, nowMs })
    : grid.mode === 'on-grid'
      ? stepOnGrid(stageState, stages, { stepMs: cfg.restoreStepMs ?? 2_000, nowMs })
      : { state: stageState, restored: [], why: null };
  const restoring: Record<string, number> = {};
  const shedNow = new Set(stages.slice(0, step.state.shed).flatMap((x) => x.relays));
  for (const [r, until] of Object.entries(st.restoring)) if (until > nowMs && !shedNow.has(r)) restoring[r] = until;
  for (const r of step.restored) restoring[r] = nowMs + (cfg.restoreHoldMs ?? 10_000);

  const proposals: Proposal[] = [];
  const relay = (component: string, closed: 0 | 1, criticality: Criticality, why: string): void => {
    proposals.push({ kind: 'target', target: command.relayClosed({ component }), value: closed, criticality, source: cfg.id, why });
  };
  const notes: string[] = [];
  if (islandedNow) {
    const why = grid.mode === 'islanded' ? 'grid lost: site islanded' : 'grid back, waiting until it is stable before reconnecting';
    if (cfg.pcc) relay(cfg.pcc.component, 0, 'safety', why);
    stages.slice(0, step.state.shed).forEach((x, i) => {
      for (const r of x.relays) relay(r, 0, 'safety', `${why}: non-critical load shed (stage ${i + 1} at SoC ${tenth(x.socPct)} %)`);
    });
  } else if (grid.restoringUntilMs !== null && nowMs < grid.restoringUntilMs && cfg.pcc)
    relay(cfg.pcc.component, 1, 'safety', 'grid back and stable: reconnecting');
  for (const r of Object.keys(restoring).sort()) relay(r, 1, 'supply-quality', step.restored.includes(r) ? (step.why ?? 'load restored') : 'load restored');
  if (stages.length) notes.push(`shed ${step.state.shed} of ${stages.length} stages${step.why ? ` (${step.why})` : ''}`);

  let recharging = false;
  if (soc !== undefined && !islandedNow) {
    const b = cfg.battery;
    const perPhase = b.kind === 'battery-setpoint' && b.perPhase;
    const phases = perPhase ? phasesOf(b.phases) : [undefined];
    const bound = (key: 'min' | 'max', w: number, criticality: Criticality, why: string): void => {
      for (const p of phases) proposals.push({ kind: 'bound', target: command.batteryPower(b, p), [key]: w / phases.length, criticality, source: cfg.id, why });
    };
    if (soc <= cfg.floorPct)
      bound('max', 0, cfg.reserveCriticality ?? 'supply-quality', `backup reserve: SoC ${tenth(soc)} % at or below the ${cfg.floorPct} % kept for outages`);
    // Recharge back to the floor from the grid, only with the grid confirmed.
    const hyst = cfg.rechargeHysteresisPct ?? 1;
    recharging = cfg.rechargeW !== undefined && grid.mode === 'on-grid' && (st.recharging ? soc < cfg.floorPct : soc < cfg.floorPct - hyst);
    if (recharging && cfg.rechargeW !== undefined) {
      const w = Math.min(cfg.rechargeW, -batteryRange(s, b, nowMs, maxAge).minW);
      bound(
        'max',
        -w,
        cfg.rechargeCriticality ?? 'business',
        `backup reserve: recharging from the grid at ${fmtW(w)} back to ${cfg.floorPct} % (SoC ${tenth(soc)} %)`,
      );
      notes.push(`recharging at ${fmtW(w)}`);
    }
  }
  const state: BackupReserveState = { ...grid, stages: step.state, restoring, recharging };
  if (soc === undefined)
    return {
      proposals,
      state,
      status: {
        state: 'failed',
        reason: `${cfg.battery.component}/Soc not usable; the reserve cannot be judged and no stage moves (the safety envelope idles the battery)`,
      },
    };
  if (present === undefined)
    return {
      proposals,
      state,
      status: {
        state: 'failed',
        reason: islandedNow ? 'grid state cannot be read; staying islanded' : 'grid frequency not usable: grid loss cannot be detected',
      },
    };
  const head = islandedNow
    ? `${grid.mode === 'islanded' ? 'grid lost: site islanded' : 'grid back, waiting until it is stable before reconnecting'} (since ${new Date(grid.sinceMs).toISOString()}); SoC ${tenth(soc)} %`
    : `${grid.mode}; SoC ${tenth(soc)} % (floor ${cfg.floorPct} %${soc <= cfg.floorPct ? ', discharge blocked' : ''})`;
  const detail = [head, ...notes].join('; ');
  return ok(proposals, state, grid.mode === 'loss-suspected' ? `${detail}; grid loss suspected, confirming` : detail);
}
