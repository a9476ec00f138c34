import type { Relay } from '../edge/capabilities.js';

/**
 * Staged load shedding for an islanded site (docs/ems-modes.md "Backup / grid forming"): non-critical
 * loads (relays of role `shed`, never `critical`) are opened in stages as the SoC falls: stage 1 at the
 * reserve, the next ones toward the minimum SoC, and closed again in reverse order when the SoC
 * recovers (by the hysteresis) or the grid is back. One stage moves at a time, and not within the
 * minimum dwell of the last move, so a SoC hovering at a threshold does not flicker a relay. Pure.
 */
export interface ShedStage {
  readonly relays: readonly Relay[];
  /** Shed at or below this SoC (%); by default stage i of n sits at floor - i x (floor - min) / n. */
  readonly socPct?: number;
}

export interface StagePlan {
  readonly relays: readonly string[];
  readonly socPct: number;
}

/** The stages with their SoC thresholds; empty stages (no `shed` relay) are dropped. */
export function planStages(stages: readonly ShedStage[], floorPct: number, minSocPct: number): StagePlan[] {
  const usable = stages.map((s) => ({ ...s, relays: s.relays.filter((r) => r.role === 'shed') })).filter((s) => s.relays.length > 0);
  const n = usable.length;
  const span = Math.max(0, floorPct - minSocPct);
  return usable.map((s, i) => ({ relays: s.relays.map((r) => r.component), socPct: s.socPct ?? floorPct - (i * span) / Math.max(1, n) }));
}

export interface StageState {
  /** How many stages are shed now (0 = none). */
  readonly shed: number;
  /** When the last stage was shed or restored (for the dwell); null before the first move. */
  readonly changedMs: number | null;
}

export interface StageStep {
  readonly state: StageState;
  /** The relays of a stage restored this step (to be closed again). */
  readonly restored: readonly string[];
  readonly why: string | null;
}

/** Islanded: one stage more when the SoC is at or below its threshold, one back when it is the hysteresis above. */
export function stepIslanded(
  st: StageState,
  socPct: number,
  stages: readonly StagePlan[],
  o: { hysteresisPct: number; dwellMs: number; nowMs: number },
): StageStep {
  const dwelt = st.changedMs === null || o.nowMs - st.changedMs >= o.dwellMs;
  const next = stages[st.shed];
  if (next && socPct <= next.socPct) {
    if (!dwelt) return { state: st, restored: [], why: `stage ${st.shed + 1} due (SoC ${socPct.toFixed(1)} % <= ${next.socPct} %), within the dwell` };
    return { state: { shed: st.shed + 1, changedMs: o.nowMs }, restored: [], why: `stage ${st.shed + 1} shed: SoC ${socPct.toFixed(1)} % <= ${next.socPct} %` };
  }
  const last = stages[st.shed - 1];
  if (last && socPct >= last.socPct + o.hysteresisPct && dwelt)
    return {
      state: { shed: st.shed - 1, changedMs: o.nowMs },
      restored: last.relays,
      why: `stage ${st.shed} restored: SoC ${socPct.toFixed(1)} % >= ${last.socPct + o.hysteresisPct} %`,
    };
  return { state: st, restored: [], why: null };
}

/** Back on grid: the stages come back one at a time, last shed first, `stepMs` apart. */
export function stepOnGrid(st: StageState, stages: readonly StagePlan[], o: { stepMs: number; nowMs: number }): StageStep {
  const last = stages[st.shed - 1];
  if (!last) return { state: st.shed > 0 ? { ...st, shed: 0 } : st, restored: [], why: null };
  if (st.changedMs !== null && o.nowMs - st.changedMs < o.stepMs) return { state: st, restored: [], why: `stage ${st.shed} restored next` };
  return { state: { shed: st.shed - 1, changedMs: o.nowMs }, restored: last.relays, why: `grid back: stage ${st.shed} restored` };
}
