/**
 * How a correction under a limit (the utility's import or load limit) is split between EV chargers
 * and the battery (docs/csip.md "On the site"). Over the limit the cars give first: down toward their
 * minimum power in proportion to what each can give; when that is not enough, cars pause (0 W) from the
 * last in order, each pause giving its minimum; the battery covers what is left, then load shedding. Under the limit the room is halved between the cars
 * and the battery when both are there, so the two never take the same room in one cycle; each cycle
 * starts again from measured power, so the split converges without overshoot. A paused car resumes only
 * when its share reaches its minimum plus `hysteresisW`, so it does not flicker at the threshold.
 */
export interface EvShareInput {
  /** What the car draws now (W, >= 0). */
  readonly w: number;
  readonly minW: number;
  readonly maxW: number;
}

export interface EvShare {
  /** The most each car may draw (W): 0 or at least its minimum. */
  readonly evMaxW: readonly number[];
  /** How much the battery must move toward discharge (W; negative: how much more it may charge). */
  readonly batteryW: number;
  /** What the cars gave (W, >= 0). */
  readonly evReductionW: number;
}

export function splitCorrection(excessW: number, evs: readonly EvShareInput[], hasBattery: boolean, hysteresisW = 300): EvShare {
  if (excessW > 0) {
    const evMaxW = evs.map((e) => Math.min(e.maxW, Math.max(0, e.w)));
    // A car drawing under its minimum (starting, or nearly full) is paused first: it gives what it draws.
    let need = excessW;
    evs.forEach((e, i) => {
      if (e.w < e.minW) {
        need -= Math.max(0, e.w);
        evMaxW[i] = 0;
      }
    });
    const above = evs.map((e, i) => ({ e, i })).filter((x) => x.e.w >= x.e.minW);
    const headroom = above.reduce((n, x) => n + (x.e.w - x.e.minW), 0);
    if (need > 0 && headroom >= need) {
      // Down toward their minimums, each in proportion to what it can give.
      for (const { e, i } of above) evMaxW[i] = Math.min(e.maxW, e.w - (need * (e.w - e.minW)) / headroom);
    } else if (need > 0) {
      // All at their minimum is not enough: pause cars from the last in order until it is.
      for (const { e, i } of above) evMaxW[i] = e.minW;
      let left = need - headroom;
      for (const { e, i } of [...above].reverse()) {
        if (left <= 0) break;
        evMaxW[i] = 0;
        left -= e.minW;
      }
    }
    const given = evs.reduce((n, e, i) => n + Math.max(0, Math.max(0, e.w) - (evMaxW[i] ?? 0)), 0);
    return { evMaxW, batteryW: Math.max(0, excessW - given), evReductionW: given };
  }
  const room = -excessW;
  const evRoom = evs.length === 0 ? 0 : hasBattery ? room / 2 : room;
  const evMaxW = evs.map((e) => {
    const w = Math.max(0, e.w);
    const allowed = w + evRoom / evs.length;
    const paused = w < e.minW / 2;
    if (allowed < e.minW || (paused && allowed < e.minW + hysteresisW)) return 0;
    return Math.min(e.maxW, allowed);
  });
  return { evMaxW, batteryW: evRoom - room, evReductionW: 0 };
}
