import { fresh, type Snapshot } from '../src/edge/snapshot.js';

/**
 * An open-dynamic-export-style export limiter, for bench/utility-event.ts only (loaded into the control
 * worker through ControlTestHooks.modules): the site's grid power and the PV power averaged over the
 * last 5 s (one sample a cycle), PV's target the averaged production plus the room to the export limit,
 * and the PV power ratio moved towards it at most 10 % of the rating per second. It sees the total
 * only, as that client does. Its output is a bound on the PV limit, like the utility-limits controller's.
 */
interface Cfg {
  readonly ratedW: number;
  readonly windowS?: number;
  readonly rampPctPerS?: number;
}
/** Extra controllers start from `{}` (control-plan.ts), so every field may be missing. */
interface St {
  readonly grid?: readonly number[];
  readonly pv?: readonly number[];
  readonly ratio?: number | null;
  readonly atMs?: number | null;
}

export const controllers = {
  'ode-baseline': {
    run: (s: Snapshot, cfg: Cfg, st: St, nowMs: number) => {
      const limit = fresh(s, 'utility/ExportLimitW', nowMs, 3000);
      const g = fresh(s, 'grid/ActivePower', nowMs, 3000);
      const pvW = fresh(s, 'pv0/ActivePower', nowMs, 3000);
      if (limit === undefined || g === undefined || pvW === undefined)
        return { proposals: [], state: st, status: { state: 'idle', reason: 'no limit or no reading' } };
      const n = cfg.windowS ?? 5;
      const grid = [...(st.grid ?? []), g].slice(-n);
      const pv = [...(st.pv ?? []), pvW].slice(-n);
      const avg = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
      const exportAvg = -avg(grid);
      const target = Math.min(1, Math.max(0, (avg(pv) + (limit - exportAvg)) / cfg.ratedW));
      const dtS = st.atMs === undefined || st.atMs === null ? 1 : Math.max(0, (nowMs - st.atMs) / 1000);
      const prev = st.ratio ?? Math.min(1, pvW / cfg.ratedW);
      const step = ((cfg.rampPctPerS ?? 10) / 100) * dtS;
      const ratio = prev + Math.max(-step, Math.min(step, target - prev));
      return {
        proposals: [
          {
            kind: 'bound',
            target: 'pv0/ActivePowerLimit',
            min: 0,
            max: ratio * cfg.ratedW,
            criticality: 'supply-quality',
            source: 'ode-baseline',
            why: `export limit ${limit} W, 5 s average export ${Math.round(exportAvg)} W`,
          },
        ],
        state: { grid, pv, ratio, atMs: nowMs },
        status: { state: 'ok', detail: `PV ratio ${ratio.toFixed(3)}` },
      };
    },
    start: { grid: [], pv: [], ratio: null, atMs: null },
    criticality: 'supply-quality',
  },
};
