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
 * - PV (symmetric) takes what the battery cannot, by the same rule.
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
    const pvNeed = Math.max(3 * worst(left), i.needTotalW - absorbed);
    const pv = absorb({ needW: pvNeed, batteryW: undefined, batteryMinW: 0, pvW: i.pvW, pvCurtailed: i.pvCurtailed, shiftStepW: 0 });
    return { batteryPhaseMaxW, ...(pv.pvMaxW !== undefined ? { pvMaxW: pv.pvMaxW } : {}), shortfallW: pv.shortfallW };
  }
  const plan = absorb({
    needW: Math.max(i.needTotalW, 3 * worst(i.needW)),
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
