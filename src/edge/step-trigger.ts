import { batteryPower, gridPower } from '../controllers/assets.js';
import { PHASES, type Battery, type GridMeter } from './capabilities.js';
import type { Snapshot } from './snapshot.js';

/**
 * The step trigger of the edge cycle (issue 10 item 6, control quality): with the control devices read
 * faster than the cycle period (`control.pollMs`), a load or PV step seen in a fresh reading starts the
 * cycle at once instead of at the next period boundary, cutting the dead time between a step and the
 * first setpoint written from up to a period to up to a poll interval.
 *
 * What counts as a step is a change the controllers did not cause: the grid (import positive) plus the
 * batteries' measured power (discharge positive) is the site's load less its uncontrolled production,
 * which a battery's own response to the last command does not move (grid and battery move by opposite
 * amounts), and a release of curtailed PV into the battery does not move the grid. A step moves both the
 * grid and that sum by the same amount, in the same direction: both must have moved by `thresholdW` since
 * the last cycle's readings, in total or on one phase (when the grid is metered per phase). Pure.
 */
export interface StepTriggerConfig {
  /** How far grid and grid + battery must both move since the last cycle to start one early (W). */
  readonly thresholdW: number;
  /** An early cycle starts at least this long after the previous start (ms): never faster than this. */
  readonly minSpacingMs: number;
}

/** Grid and grid + battery, total and per phase where measured (W); undefined without a fresh grid reading. */
export type SiteBalance = ReadonlyMap<string, { grid: number; sum: number }>;

export function balanceOf(s: Snapshot, grid: GridMeter | undefined, batteries: readonly Battery[], nowMs: number, maxAgeMs: number): SiteBalance | undefined {
  if (!grid) return undefined;
  const total = gridPower(s, grid, nowMs, maxAgeMs);
  if (!total.ok) return undefined;
  const out = new Map<string, { grid: number; sum: number }>();
  const bat = (phase?: (typeof PHASES)[number]): number | undefined => {
    let n = 0;
    for (const b of batteries) {
      // A battery on one phase (or without per-phase readings) is counted in the total only.
      const w = phase && !(b.kind === 'battery-setpoint' && b.perPhase) ? undefined : batteryPower(s, b, nowMs, maxAgeMs, phase);
      if (w === undefined) return undefined;
      n += w;
    }
    return n;
  };
  const bt = bat();
  out.set('total', { grid: total.w, sum: total.w + (bt ?? 0) });
  if (grid.perPhase)
    for (const p of PHASES) {
      const g = gridPower(s, grid, nowMs, maxAgeMs, p);
      const b = bat(p);
      if (g.ok && b !== undefined) out.set(p, { grid: g.w, sum: g.w + b });
    }
  return out;
}

/** The largest step (W) seen between the last cycle's balance and now, or 0 when none passes the threshold. */
export function stepSeen(before: SiteBalance | undefined, now: SiteBalance | undefined, thresholdW: number): number {
  if (!before || !now) return 0;
  let worst = 0;
  for (const [k, n] of now) {
    const b = before.get(k);
    if (!b) continue;
    const dGrid = n.grid - b.grid;
    const dSum = n.sum - b.sum;
    if (Math.abs(dGrid) >= thresholdW && Math.abs(dSum) >= thresholdW && Math.sign(dGrid) === Math.sign(dSum))
      worst = Math.max(worst, Math.min(Math.abs(dGrid), Math.abs(dSum)));
  }
  return worst;
}
