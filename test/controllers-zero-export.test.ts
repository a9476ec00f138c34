import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Battery, GridMeter, PvInverter } from '../src/edge/capabilities.js';
import { resolve } from '../src/edge/resolver.js';
import { zeroExport, ZERO_EXPORT_START, type ZeroExportConfig } from '../src/controllers/zero-export.js';
import { snap, T0 } from './helpers/edge-snapshot.js';

const grid: GridMeter = { kind: 'grid-meter', component: 'grid', perPhase: true };
const symBattery: Battery = { kind: 'battery-setpoint', component: 'ess0', perPhase: false, phases: 3, maxChargeW: 15_000, maxDischargeW: 15_000 };
const phaseBattery: Battery = { ...symBattery, perPhase: true };
const symPv: PvInverter = { kind: 'pv-limit', component: 'pv0', perPhase: false, phases: 3, ratedW: 30_000 };
const phasePv: PvInverter = { ...symPv, perPhase: true };

// The worked example of docs/sign-conventions.md: L1 +15 kW, L2 -3 kW, L3 -2 kW (total +10 kW import), battery idle, PV 8 kW per phase.
const seedGrid = { 'grid/ActivePower': 10_000, 'grid/ActivePower_L1': 15_000, 'grid/ActivePower_L2': -3_000, 'grid/ActivePower_L3': -2_000 };
const idleBattery = { 'ess0/Soc': 50, 'ess0/ActivePower': 0, 'ess0/ActivePower_L1': 0, 'ess0/ActivePower_L2': 0, 'ess0/ActivePower_L3': 0 };
const pvAt = (l1: number, l2: number, l3: number, limit?: number) => ({
  'pv0/ActivePower': l1 + l2 + l3,
  'pv0/ActivePower_L1': l1,
  'pv0/ActivePower_L2': l2,
  'pv0/ActivePower_L3': l3,
  ...(limit !== undefined ? { 'pv0/ActivePowerLimit': limit } : {}),
});

interface Case {
  readonly name: string;
  readonly cfg: Omit<ZeroExportConfig, 'id' | 'grid'>;
  readonly values: Record<string, number>;
  /** Expected resolved upper bounds (the command each limit allows at most). */
  readonly max: Record<string, number>;
  readonly state: 'ok' | 'failed' | 'idle';
  /** Grid per phase after the commands take effect, at their bounds (W). */
  readonly after?: [number, number, number];
}

const cases: Case[] = [
  {
    name: 'worked example (docs/sign-conventions.md), per-phase battery: charges 3 kW on L2 and 2 kW on L3, L1 untouched',
    cfg: { battery: phaseBattery, marginW: 0 },
    values: { ...seedGrid, ...idleBattery },
    max: { 'ess0/SetActivePower_L1': 15_000, 'ess0/SetActivePower_L2': -3_000, 'ess0/SetActivePower_L3': -2_000 },
    state: 'ok',
    after: [15_000, 0, 0],
  },
  {
    name: 'worked example (docs/sign-conventions.md), symmetric battery: holds the most-exporting phase (L2) at zero, 3 x 3 kW = 9 kW charge',
    cfg: { battery: symBattery, marginW: 0 },
    values: { ...seedGrid, ...idleBattery },
    max: { 'ess0/SetActivePower': -9_000 },
    state: 'ok',
    after: [18_000, 0, 1_000],
  },
  {
    name: 'worked example (docs/sign-conventions.md), per-phase PV limit and no battery: curtail L2 by 3 kW and L3 by 2 kW',
    cfg: { pv: phasePv, marginW: 0 },
    values: { ...seedGrid, ...pvAt(8_000, 8_000, 8_000) },
    max: { 'pv0/ActivePowerLimit_L1': 23_000, 'pv0/ActivePowerLimit_L2': 5_000, 'pv0/ActivePowerLimit_L3': 6_000 },
    state: 'ok',
    after: [15_000, 0, 0],
  },
  {
    name: 'worked example (docs/sign-conventions.md), symmetric PV limit and no battery: 9 kW curtailed',
    cfg: { pv: symPv, marginW: 0 },
    values: { ...seedGrid, ...pvAt(8_000, 8_000, 8_000) },
    max: { 'pv0/ActivePowerLimit': 15_000 },
    state: 'ok',
    after: [18_000, 0, 1_000],
  },
  {
    name: 'symmetric battery limited to 4.5 kW by its BMS, per-phase PV takes the rest on L2 and L3 only',
    cfg: { battery: symBattery, pv: phasePv, marginW: 0 },
    values: { ...seedGrid, ...idleBattery, 'ess0/AllowedChargePower': 4_500, ...pvAt(8_000, 8_000, 8_000) },
    max: { 'ess0/SetActivePower': -4_500, 'pv0/ActivePowerLimit_L2': 6_500, 'pv0/ActivePowerLimit_L3': 7_500 },
    state: 'ok',
    after: [16_500, 0, 0],
  },
  {
    name: 'the 50 W margin: L2 at -3 kW is brought to +50 W',
    cfg: { battery: phaseBattery },
    values: { ...seedGrid, ...idleBattery },
    max: { 'ess0/SetActivePower_L2': -3_050, 'ess0/SetActivePower_L3': -2_050 },
    state: 'ok',
  },
  {
    name: 'no phase exports: the bounds say how much more a symmetric discharge may add (3 x the smallest room)',
    cfg: { battery: symBattery, marginW: 0 },
    values: { 'grid/ActivePower_L1': 2_000, 'grid/ActivePower_L2': 500, 'grid/ActivePower_L3': 1_000, 'grid/ActivePower': 3_500, ...idleBattery },
    max: { 'ess0/SetActivePower': 1_500 },
    state: 'ok',
  },
  {
    name: 'a full battery and no PV control: the export cannot be absorbed, said so',
    cfg: { battery: symBattery, marginW: 0 },
    values: { ...seedGrid, ...idleBattery, 'ess0/AllowedChargePower': 0 },
    max: { 'ess0/SetActivePower': 0 },
    state: 'failed',
  },
  {
    name: 'PV held back by its limit, battery has room: charge a quarter of the 15 kW headroom more and let PV rise as much (energy moves from curtailment to storage)',
    cfg: { battery: symBattery, pv: symPv, marginW: 0 },
    values: {
      'grid/ActivePower_L1': 0,
      'grid/ActivePower_L2': 0,
      'grid/ActivePower_L3': 0,
      'grid/ActivePower': 0,
      ...idleBattery,
      ...pvAt(3_000, 3_000, 3_000, 9_000),
    },
    max: { 'ess0/SetActivePower': -3_750, 'pv0/ActivePowerLimit': 12_750 },
    state: 'ok',
  },
];

for (const c of cases) {
  test(`zero export: ${c.name}`, () => {
    const s = snap(T0, c.values);
    const r = zeroExport(s, { id: 'zero-export', grid, ...c.cfg }, ZERO_EXPORT_START, T0);
    assert.equal(r.status.state, c.state, JSON.stringify(r.status));
    const res = resolve(r.proposals);
    for (const [target, max] of Object.entries(c.max)) {
      const v = res.get(target);
      assert.ok(v, `${target} resolved`);
      assert.equal(Math.round(v.interval.max), max, `${target}: ${v.interval.max}`);
    }
    if (c.after) {
      // Apply the commands at their bounds and recompute the grid: grid_new = grid + measured - new.
      const phases = ['L1', 'L2', 'L3'] as const;
      const gridAfter = phases.map((p) => {
        let g = c.values[`grid/ActivePower_${p}`] ?? 0;
        const bp = res.get(`ess0/SetActivePower_${p}`);
        if (bp) g += (c.values[`ess0/ActivePower_${p}`] ?? 0) - Math.min(bp.interval.max, c.values[`ess0/ActivePower_${p}`] ?? 0);
        const bs = res.get('ess0/SetActivePower');
        if (bs) g += ((c.values['ess0/ActivePower'] ?? 0) - Math.min(bs.interval.max, c.values['ess0/ActivePower'] ?? 0)) / 3;
        const pp = res.get(`pv0/ActivePowerLimit_${p}`);
        if (pp) g += (c.values[`pv0/ActivePower_${p}`] ?? 0) - Math.min(pp.interval.max, c.values[`pv0/ActivePower_${p}`] ?? 0);
        const ps = res.get('pv0/ActivePowerLimit');
        if (ps) g += ((c.values['pv0/ActivePower'] ?? 0) - Math.min(ps.interval.max, c.values['pv0/ActivePower'] ?? 0)) / 3;
        return Math.round(g);
      });
      assert.deepEqual(gridAfter, c.after);
      assert.ok(
        gridAfter.every((g) => g >= 0),
        'no phase exports',
      );
    }
  });
}

test('zero export: a stale phase of the grid meter fails with the reason and proposes nothing', () => {
  const s = snap(T0, { ...seedGrid, 'grid/ActivePower_L3': { value: -2_000, ts: T0 - 10_000, quality: 'STALE' }, ...idleBattery });
  const r = zeroExport(s, { id: 'zero-export', grid, battery: phaseBattery }, ZERO_EXPORT_START, T0);
  assert.equal(r.status.state, 'failed');
  assert.match(r.status.reason, /grid\/ActivePower_L3 STALE/);
  assert.deepEqual(r.proposals, []);
});
