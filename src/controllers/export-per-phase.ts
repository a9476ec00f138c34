import { PHASES, type Phase } from '../edge/capabilities.js';
import { absorb } from './absorb.js';

/**
 * An export limit that holds on each phase (SA Power Networks sets flexible export limits per phase;
 * docs/csip.md "Per-phase export"): each phase's export at the connection point at most its share, and
 * the total at most the limit. Pure: needs in, bounds out.
 *
 * - A battery with per-phase setpoints takes each phase's excess on that phase.
 * - A symmetric battery or PV limit moves every phase by a third of its change, so the most-exporting
 *   phase decides: it takes three times that phase's excess (L1 +3 kW export, L2 and L3 importing,
 *   under a 500 W share: 3 × 2.5 kW), or the total's excess if that is more.
 * - PV (symmetric) takes what the battery cannot: a symmetric limit scales every phase by one factor, so
 *   the cut is the largest of each phase's excess over its share of production (`pvShares`, measured;
 *   a third each on a balanced inverter). Three times the excess overshot a phase that carries more
 *   than a third of the PV, and the loop rang (a phase 50 W over its share in CI).
 * `need` > 0: W to absorb to hold the share (or the limit); < 0: room before it is reached.
 */
export interface PhaseExportInput {
  readonly needTotalW: number;
  readonly needW: Readonly<Record<Phase, number>>;
  /** Measured battery power per phase when its setpoints are per phase, else undefined. */
  readonly batteryPhaseW?: Readonly<Record<Phase, number | undefined>>;
  /** Measured battery power in total (symmetric battery), or undefined without one. */
  readonly batteryW: number | undefined;
  /** The lowest the battery may go (W, charge negative), in total. */
  readonly batteryMinW: number;
  readonly pvW: number | undefined;
  readonly pvCurtailed: boolean;
  /** Each phase's share of PV production (assets.ts pvPhaseShares); a third each when absent. */
  readonly pvShares?: Readonly<Record<Phase, number>>;
}

export interface PhaseExportPlan {
  /** Highest battery power per phase (per-phase setpoints). */
  readonly batteryPhaseMaxW?: Readonly<Partial<Record<Phase, number>>>;
  /** Highest battery power in total (symmetric battery). */
  readonly batteryMaxW?: number;
  readonly pvMaxW?: number;
  readonly shortfallW: number;
}

const worst = (x: Readonly<Record<Phase, number>>): number => Math.max(...PHASES.map((p) => x[p]));
const EVEN: Readonly<Record<Phase, number>> = { L1: 1 / 3, L2: 1 / 3, L3: 1 / 3 };

/**
 * The cut of a symmetric PV limit that brings every phase's excess to zero (W); < 0 when no phase is in
 * excess: how far PV may rise before the first phase reaches its share.
 */
export function symmetricPvCut(excessW: Readonly<Record<Phase, number>>, shares: Readonly<Record<Phase, number>> = EVEN): number {
  return Math.max(...PHASES.map((p) => excessW[p] / shares[p]));
}

export function planPhaseExport(i: PhaseExportInput): PhaseExportPlan {
  if (i.batteryPhaseW) {
    const batteryPhaseMaxW: Partial<Record<Phase, number>> = {};
    const left = { ...i.needW };
    let absorbed = 0;
    for (const p of PHASES) {
      const bat = i.batteryPhaseW[p];
      if (bat === undefined) continue;
      const plan = absorb({ needW: i.needW[p], batteryW: bat, batteryMinW: i.batteryMinW / 3, pvW: undefined, pvCurtailed: false, shiftStepW: 0 });
      if (plan.batteryMaxW !== undefined) batteryPhaseMaxW[p] = plan.batteryMaxW;
      if (i.needW[p] > 0) {
        left[p] = plan.shortfallW;
        absorbed += i.needW[p] - plan.shortfallW;
      }
    }
    const pvNeed = Math.max(symmetricPvCut(left, i.pvShares), i.needTotalW - absorbed);
    const pv = absorb({ needW: pvNeed, batteryW: undefined, batteryMinW: 0, pvW: i.pvW, pvCurtailed: i.pvCurtailed, shiftStepW: 0 });
    return { batteryPhaseMaxW, ...(pv.pvMaxW !== undefined ? { pvMaxW: pv.pvMaxW } : {}), shortfallW: pv.shortfallW };
  }
  const batteryNeedW = Math.max(i.needTotalW, 3 * worst(i.needW));
  if (batteryNeedW > 0 && i.pvW !== undefined) {
    // A balanced battery moves each phase by a third of its change; PV by each phase's share of it.
    const bat = absorb({ needW: batteryNeedW, batteryW: i.batteryW, batteryMinW: i.batteryMinW, pvW: undefined, pvCurtailed: false, shiftStepW: 0 });
    const took = batteryNeedW - bat.shortfallW;
    const left = { L1: i.needW.L1 - took / 3, L2: i.needW.L2 - took / 3, L3: i.needW.L3 - took / 3 };
    const pvNeed = Math.max(0, symmetricPvCut(left, i.pvShares), i.needTotalW - took);
    const pv = absorb({ needW: pvNeed, batteryW: undefined, batteryMinW: 0, pvW: i.pvW, pvCurtailed: i.pvCurtailed, shiftStepW: 0 });
    return {
      ...(bat.batteryMaxW !== undefined ? { batteryMaxW: bat.batteryMaxW } : {}),
      ...(pv.pvMaxW !== undefined ? { pvMaxW: pv.pvMaxW } : {}),
      shortfallW: pv.shortfallW,
    };
  }
  const plan = absorb({
    needW: batteryNeedW,
    batteryW: i.batteryW,
    batteryMinW: i.batteryMinW,
    pvW: i.pvW,
    pvCurtailed: i.pvCurtailed,
    shiftStepW: 500,
  });
  return {
    ...(plan.batteryMaxW !== undefined ? { batteryMaxW: plan.batteryMaxW } : {}),
    ...(plan.pvMaxW !== undefined ? { pvMaxW: plan.pvMaxW } : {}),
    shortfallW: plan.shortfallW,
  };
}
