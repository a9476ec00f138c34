import { test } from 'node:test';
import assert from 'node:assert/strict';
import { utilityLimits, UTILITY_LIMITS_START, type UtilityLimitsConfig } from '../src/controllers/utility-limits.js';
import type { Battery } from '../src/edge/capabilities.js';
import type { Proposal } from '../src/edge/proposal.js';
import { snap, T0 } from './helpers/edge-snapshot.js';

// The utility's export limit held per phase (SA Power Networks' flexible exports): the
// utility-limits controller on hand-made snapshots, one row per site.

const SYMMETRIC: Battery = { kind: 'battery-setpoint', component: 'ess0', perPhase: false, phases: 3, maxChargeW: 5000, maxDischargeW: 5000 };
const PER_PHASE: Battery = { kind: 'battery-setpoint', component: 'ess0', perPhase: true, phases: 3, maxChargeW: 9000, maxDischargeW: 9000 };

const cfg = (o: Partial<UtilityLimitsConfig>): UtilityLimitsConfig => ({
  id: 'utility',
  grid: { kind: 'grid-meter', component: 'grid', perPhase: true },
  pv: { kind: 'pv-limit', component: 'pv0', perPhase: false, phases: 3, ratedW: 9000 },
  exportPerPhase: true,
  ...o,
});

/** Grid per phase (W, import positive); 9 kW of PV producing `pvW`; the battery idle. */
const site = (grid: readonly [number, number, number], pvW: number, extra: Record<string, number> = {}) =>
  snap(T0, {
    'utility/Evaluated': 1,
    'utility/ExportLimitW': 1500,
    'grid/ActivePower': grid[0] + grid[1] + grid[2],
    'grid/ActivePower_L1': grid[0],
    'grid/ActivePower_L2': grid[1],
    'grid/ActivePower_L3': grid[2],
    'pv0/ActivePower': pvW,
    'pv0/ActivePowerLimit': 9000,
    'ess0/ActivePower': 0,
    'ess0/ActivePower_L1': 0,
    'ess0/ActivePower_L2': 0,
    'ess0/ActivePower_L3': 0,
    ...extra,
  });

const maxOf = (ps: readonly Proposal[], target: string): number | undefined => {
  const xs = ps.flatMap((p) => (p.kind === 'bound' && p.target === target && p.max !== undefined ? [p.max] : []));
  return xs.length ? Math.round(Math.min(...xs)) : undefined;
};

// L1 exports 3 kW, L2 and L3 import 1 kW each: 1 kW exported in total, within the 1.5 kW limit, but L1 is
// 2.5 kW over its 500 W share (2525 W with the 25 W margin).
const UNBALANCED = [-3000, 1000, 1000] as const;

test('table: per-phase export limit, 1.5 kW total (500 W a phase)', async (t) => {
  const rows: {
    name: string;
    cfg: UtilityLimitsConfig;
    grid: readonly [number, number, number];
    pvW: number;
    want: Record<string, number | undefined>;
    state?: 'ok' | 'failed';
    extra?: Record<string, number>;
  }[] = [
    {
      name: 'total only (exportPerPhase off): the unbalanced site is within the limit, nothing is held back',
      cfg: cfg({ exportPerPhase: false }),
      grid: UNBALANCED,
      pvW: 9000,
      want: { 'pv0/ActivePowerLimit': 9475 },
    },
    {
      name: 'PV only: a symmetric curtailment moves L1 by a third, so PV gives 3 × 2525 W',
      cfg: cfg({}),
      grid: UNBALANCED,
      pvW: 9000,
      want: { 'pv0/ActivePowerLimit': 1425 },
    },
    {
      name: 'PV measured per phase, 60 % of it on L1: a symmetric cut moves L1 by 60 % of it, so PV gives 2525 / 0.6 W',
      cfg: cfg({}),
      grid: UNBALANCED,
      pvW: 5000,
      extra: { 'pv0/ActivePower_L1': 3000, 'pv0/ActivePower_L2': 1000, 'pv0/ActivePower_L3': 1000 },
      want: { 'pv0/ActivePowerLimit': 792 },
    },
    {
      name: "L1's per-phase battery at its limit, 60 % of the PV on L1: PV gives L1's 125 W / 0.6 (3 × 125 W rang in the closed loop)",
      cfg: cfg({ battery: PER_PHASE }),
      grid: [-600, -400, -400],
      pvW: 5000,
      extra: {
        'pv0/ActivePower_L1': 3000,
        'pv0/ActivePower_L2': 1000,
        'pv0/ActivePower_L3': 1000,
        'ess0/ActivePower': -3000,
        'ess0/ActivePower_L1': -3000,
      },
      want: { 'ess0/SetActivePower_L1': -3000, 'pv0/ActivePowerLimit': 4792 },
    },
    {
      name: "a symmetric battery charges first, 60 % of the PV on L1: PV takes L1's 858 W left by its share (/ 0.6)",
      cfg: cfg({ battery: SYMMETRIC }),
      grid: UNBALANCED,
      pvW: 5000,
      extra: { 'pv0/ActivePower_L1': 3000, 'pv0/ActivePower_L2': 1000, 'pv0/ActivePower_L3': 1000 },
      want: { 'ess0/SetActivePower': -5000, 'pv0/ActivePowerLimit': 3569 },
    },
    {
      name: 'a symmetric battery charges first (5 kW, all it can), PV the other 2575 W',
      cfg: cfg({ battery: SYMMETRIC }),
      grid: UNBALANCED,
      pvW: 9000,
      want: { 'ess0/SetActivePower': -5000, 'pv0/ActivePowerLimit': 6425 },
    },
    {
      name: 'a per-phase battery charges 2525 W on L1 only; L2 and L3 may discharge into their import; PV untouched',
      cfg: cfg({ battery: PER_PHASE }),
      grid: UNBALANCED,
      pvW: 9000,
      want: { 'ess0/SetActivePower_L1': -2525, 'ess0/SetActivePower_L2': 1475, 'ess0/SetActivePower_L3': 1475, 'pv0/ActivePowerLimit': 9000 },
    },
    {
      name: 'a configured per-phase value (1 kW) instead of a third of the limit',
      cfg: cfg({ exportPhaseLimitW: 1000 }),
      grid: UNBALANCED,
      pvW: 9000,
      want: { 'pv0/ActivePowerLimit': 2925 },
    },
    {
      name: 'balanced, each phase within its share: room is the smaller of the total and three times the tightest phase',
      cfg: cfg({}),
      grid: [-300, -300, -300],
      pvW: 4000,
      want: { 'pv0/ActivePowerLimit': 4525 },
    },
    {
      name: 'balanced, every phase 500 W over its share: 3 × 525 W (the margin is kept on each phase)',
      cfg: cfg({}),
      grid: [-1000, -1000, -1000],
      pvW: 6000,
      want: { 'pv0/ActivePowerLimit': 4425 },
    },
    {
      name: 'PV cannot give enough (2 kW producing): says so',
      cfg: cfg({}),
      grid: UNBALANCED,
      pvW: 2000,
      want: { 'pv0/ActivePowerLimit': 0 },
      state: 'failed',
    },
  ];
  for (const r of rows)
    await t.test(r.name, () => {
      const out = utilityLimits(site(r.grid, r.pvW, r.extra), r.cfg, UTILITY_LIMITS_START, T0);
      const got = Object.fromEntries(Object.keys(r.want).map((k) => [k, maxOf(out.proposals, k)]));
      assert.deepEqual(got, r.want, out.status.state === 'ok' ? out.status.detail : out.status.state === 'failed' ? out.status.reason : '');
      assert.equal(out.status.state, r.state ?? 'ok', JSON.stringify(out.status));
    });
});

test('per phase without a per-phase grid reading: the total is held and the controller says why', () => {
  const noPhases = snap(T0, {
    'utility/Evaluated': 1,
    'utility/ExportLimitW': 1500,
    'grid/ActivePower': -3000,
    'pv0/ActivePower': 4000,
    'pv0/ActivePowerLimit': 9000,
  });
  const out = utilityLimits(noPhases, cfg({}), UTILITY_LIMITS_START, T0);
  assert.equal(maxOf(out.proposals, 'pv0/ActivePowerLimit'), 2475);
  assert.equal(out.status.state, 'failed');
  assert.match(JSON.stringify(out.status), /per-phase grid power/);
});
