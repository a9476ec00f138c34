/**
 * Splitting a surplus between the battery and PV curtailment, shared by peak shaving's export limit
 * and per-phase zero export. Both work on one "phase group" at a time (one phase, or the whole site).
 *
 * `needW` > 0: this much more must be absorbed (battery charges more, or PV produces less);
 * `needW` < 0: there is room, production may rise by -needW before the limit is reached.
 * The battery absorbs first (energy is stored, not thrown away), PV curtailment takes the rest.
 * When PV is being held back by its limit and the battery could take more, the battery is asked to
 * charge `shiftStepW` more while PV is allowed `shiftStepW` more: if the sun is there the grid does
 * not move, and if it is not, the battery charges from the grid; the limit is never crossed.
 */
export interface AbsorbInput {
  readonly needW: number;
  /** Measured battery power in the group (W, discharge positive), or undefined without a battery. */
  readonly batteryW: number | undefined;
  /** The lowest the battery may go in this group (W, charge negative). */
  readonly batteryMinW: number;
  /** Measured PV production in the group, or undefined without controllable PV. */
  readonly pvW: number | undefined;
  /** PV is producing at its present limit (so it may be held back). */
  readonly pvCurtailed: boolean;
  readonly shiftStepW: number;
}

export interface AbsorbPlan {
  /** Highest battery power allowed (W, discharge positive), when there is a battery. */
  readonly batteryMaxW: number | undefined;
  /** Highest PV production allowed (W), when there is PV. */
  readonly pvMaxW: number | undefined;
  /** What neither can absorb (W); > 0 means the limit will be crossed. */
  readonly shortfallW: number;
}

export function absorb(a: AbsorbInput): AbsorbPlan {
  const headroom = a.batteryW === undefined ? 0 : Math.max(0, a.batteryW - a.batteryMinW);
  if (a.needW > 0) {
    const byBattery = Math.min(a.needW, headroom);
    const rest = a.needW - byBattery;
    const byPv = a.pvW === undefined ? 0 : Math.min(rest, Math.max(0, a.pvW));
    return {
      batteryMaxW: a.batteryW === undefined ? undefined : a.batteryW - byBattery,
      pvMaxW: a.pvW === undefined ? undefined : Math.max(0, a.pvW - byPv),
      shortfallW: rest - byPv,
    };
  }
  const room = -a.needW;
  if (a.pvW !== undefined && a.pvCurtailed && headroom > 0) {
    const shift = Math.min(a.shiftStepW, headroom);
    return { batteryMaxW: a.batteryW === undefined ? undefined : a.batteryW - shift, pvMaxW: a.pvW + room + shift, shortfallW: 0 };
  }
  return { batteryMaxW: a.batteryW === undefined ? undefined : a.batteryW + room, pvMaxW: a.pvW === undefined ? undefined : a.pvW + room, shortfallW: 0 };
}
