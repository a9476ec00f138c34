import { command, type Battery, type Relay } from '../edge/capabilities.js';
import { ok, type ControllerResult, type Criticality, type Proposal } from '../edge/proposal.js';
import { fresh, type Snapshot } from '../edge/snapshot.js';
import { DEFAULT_MAX_AGE_MS } from './assets.js';
import { tenth } from '../util/text-number.js';

/**
 * Backup reserve (docs/ems-modes.md, "Backup / grid forming"): on grid, the battery keeps an SoC floor for
 * outages (it may not discharge below it). When the grid is lost for `confirmMs`, the site islands
 * (the PCC relay opens) and non-critical loads are shed; the reserve is then what it was kept for.
 * When the grid has been back and stable for `returnStableMs`, the site reconnects and the shed
 * loads are restored. Islanding and emergency load shedding are safety-critical
 * (docs/ems-modes.md#criticality); keeping the reserve is supply quality.
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
  /** How long after reconnecting the restore commands are repeated. */
  readonly restoreHoldMs?: number;
  readonly pcc?: Relay;
  readonly shed?: readonly Relay[];
  readonly reserveCriticality?: Criticality;
  readonly maxAgeMs?: number;
}

export type GridMode = 'on-grid' | 'loss-suspected' | 'islanded' | 'return-pending';
export interface BackupReserveState {
  readonly mode: GridMode;
  readonly sinceMs: number;
  /** Until when the restore (PCC closed, shed loads back) is still proposed after a reconnection. */
  readonly restoringUntilMs: number | null;
}
export const BACKUP_START: BackupReserveState = { mode: 'on-grid', sinceMs: 0, restoringUntilMs: null };

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

export function nextGridMode(st: BackupReserveState, present: boolean, cfg: BackupReserveConfig, nowMs: number): BackupReserveState {
  const confirm = cfg.confirmMs ?? 2_000;
  const stable = cfg.returnStableMs ?? 60_000;
  const to = (mode: GridMode): BackupReserveState => ({
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

export function backupReserve(s: Snapshot, cfg: BackupReserveConfig, st: BackupReserveState, nowMs: number): ControllerResult<BackupReserveState> {
  const present = gridPresent(s, cfg, nowMs);
  const next = present === undefined ? st : nextGridMode(st, present, cfg, nowMs);
  const proposals: Proposal[] = [];
  const islandRelays = (why: string): void => {
    if (cfg.pcc) proposals.push({ kind: 'target', target: command.relayClosed(cfg.pcc), value: 0, criticality: 'safety', source: cfg.id, why });
    for (const r of cfg.shed ?? [])
      if (r.role === 'shed')
        proposals.push({
          kind: 'target',
          target: command.relayClosed(r),
          value: 0,
          criticality: 'safety',
          source: cfg.id,
          why: `${why}: non-critical load shed`,
        });
  };
  if (next.mode === 'islanded' || next.mode === 'return-pending') {
    const why = next.mode === 'islanded' ? 'grid lost: site islanded' : 'grid back, waiting until it is stable before reconnecting';
    islandRelays(why);
    if (present === undefined) return { proposals, state: next, status: { state: 'failed', reason: 'grid state cannot be read; staying islanded' } };
    return ok(proposals, next, `${why} (since ${new Date(next.sinceMs).toISOString()})`);
  }
  if (next.restoringUntilMs !== null && nowMs < next.restoringUntilMs) {
    const why = 'grid back and stable: reconnecting and restoring shed loads';
    if (cfg.pcc) proposals.push({ kind: 'target', target: command.relayClosed(cfg.pcc), value: 1, criticality: 'safety', source: cfg.id, why });
    for (const r of cfg.shed ?? [])
      if (r.role === 'shed') proposals.push({ kind: 'target', target: command.relayClosed(r), value: 1, criticality: 'supply-quality', source: cfg.id, why });
  }
  // On grid (or loss suspected): keep the reserve.
  const soc = fresh(s, `${cfg.battery.component}/Soc`, nowMs, cfg.maxAgeMs ?? DEFAULT_MAX_AGE_MS);
  if (soc === undefined)
    return {
      proposals,
      state: next,
      status: { state: 'failed', reason: `${cfg.battery.component}/Soc not usable; the reserve cannot be judged (the safety envelope idles the battery)` },
    };
  if (soc <= cfg.floorPct) {
    const b = cfg.battery;
    const perPhase = b.kind === 'battery-setpoint' && b.perPhase;
    for (const p of perPhase ? (['L1', 'L2', 'L3'] as const) : [undefined]) {
      proposals.push({
        kind: 'bound',
        target: command.batteryPower(b, p),
        max: 0,
        criticality: cfg.reserveCriticality ?? 'supply-quality',
        source: cfg.id,
        why: `backup reserve: SoC ${tenth(soc)} % at or below the ${cfg.floorPct} % kept for outages`,
      });
    }
  }
  if (present === undefined) return { proposals, state: next, status: { state: 'failed', reason: 'grid frequency not usable: grid loss cannot be detected' } };
  const detail = `${next.mode}; SoC ${tenth(soc)} % (floor ${cfg.floorPct} %${soc <= cfg.floorPct ? ', discharge blocked' : ''})`;
  return ok(proposals, next, next.mode === 'loss-suspected' ? `${detail}; grid loss suspected, confirming` : detail);
}
