import { test } from 'node:test';
import assert from 'node:assert/strict';
import { command, PHASES, type Battery, type GridMeter, type PvInverter } from '../src/edge/capabilities.js';
import { resolve } from '../src/edge/resolver.js';
import { batteryOffset } from '../src/controllers/assets.js';
import { frequencyDroop, DROOP_START } from '../src/controllers/frequency-droop.js';
import { peakShaving, PEAK_SHAVING_START } from '../src/controllers/peak-shaving.js';
import { selfConsumption, SELF_CONSUMPTION_START } from '../src/controllers/self-consumption.js';
import { utilityLimits, UTILITY_LIMITS_START } from '../src/controllers/utility-limits.js';
import { zeroExport, ZERO_EXPORT_START } from '../src/controllers/zero-export.js';
import { snap, T0 } from './helpers/edge-snapshot.js';

// The bound controllers plan without the droop's offset (issue 10, the demo's droop test): zero export, the
// utility's export limit and peak shaving bound the battery from its measured power and the grid; both carry
// the offset the cycle added last time. A bound counted from them, on the value the resolver adds the offset
// to again, counted the droop twice: at 50.3 Hz the demo's grid went to +2.1 kW for a 1 kW response while
// zero export probed held-back PV. Pure functions here, in the cycle's order; the closed loop is in
// droop-system.test.ts.

const grid: GridMeter = { kind: 'grid-meter', component: 'grid', perPhase: true };
const bat: Battery = { kind: 'battery-setpoint', component: 'ess0', perPhase: true, phases: 3, maxChargeW: 6_000, maxDischargeW: 6_000 };
const pv: PvInverter = { kind: 'pv-limit', component: 'pv0', perPhase: false, phases: 3, ratedW: 4_500 };
const SETS = PHASES.map((p) => command.batteryPower(bat, p));
const DROOP_PHASE_W = -1_000 / 3; // 50.3 Hz, 2 kW at full deviation

/**
 * The demo at 50.3 Hz after the droop took hold: the battery charges 1,100 W a phase of its own and the
 * offset on top; the grid imports the 50 W margin and the offset on every phase; PV makes 3.6 kW at its limit
 * (below the 4.5 kW rating, so zero export probes whether the sun gives more).
 */
const values = (offsetApplied: boolean | 'symmetric'): Record<string, number> => {
  const off = offsetApplied ? DROOP_PHASE_W : 0;
  const v: Record<string, number> = {
    'grid/Frequency': 50.3,
    'grid/ActivePower': 3 * (50 - off),
    'ess0/ActivePower': 3 * (-1_100 + off),
    'ess0/Soc': 60,
    'pv0/ActivePower': 3_600,
    'pv0/ActivePowerLimit': 3_600,
  };
  for (const p of PHASES) {
    v[`grid/ActivePower_${p}`] = 50 - off;
    v[`ess0/ActivePower_${p}`] = -1_100 + off;
    v[`pv0/ActivePower_${p}`] = 1_200;
    if (offsetApplied === true) v[`${command.batteryPower(bat, p)}.AppliedOffset`] = off;
  }
  // A symmetric battery's one command carries the whole offset.
  if (offsetApplied === 'symmetric') v[`${command.batteryPower({ component: 'ess0' })}.AppliedOffset`] = 3 * off;
  return v;
};

test('batteryOffset: a per-phase battery reads each phase, a symmetric one shares its total over its phases', () => {
  const s = snap(T0, values(true));
  assert.ok(Math.abs(batteryOffset(s, bat, T0, 3_000) + 1_000) < 1e-9);
  assert.ok(Math.abs(batteryOffset(s, bat, T0, 3_000, 'L2') - DROOP_PHASE_W) < 1e-9);
  const sym: Battery = { ...bat, perPhase: false };
  const s2 = snap(T0, { [`${command.batteryPower(sym)}.AppliedOffset`]: -900 });
  assert.equal(batteryOffset(s2, sym, T0, 3_000), -900);
  assert.equal(batteryOffset(s2, sym, T0, 3_000, 'L3'), -300);
  assert.equal(batteryOffset(s2, { ...sym, phases: 1 }, T0, 3_000, 'L2'), 0, 'a single-phase battery is on L1 only');
  assert.equal(batteryOffset(snap(T0, {}), bat, T0, 3_000), 0, 'no offset applied: 0');
});

test('zero export probing held-back PV during an over-frequency response: the battery charges the probe step and the offset once, PV may rise by the step only', () => {
  const s = snap(T0, values(true));
  const zero = zeroExport(s, { id: 'zero', grid, battery: bat, pv }, ZERO_EXPORT_START, T0);
  assert.ok(zero.status.state === 'ok', JSON.stringify(zero.status));
  assert.match(zero.status.detail, /releasing 500 W of held-back PV/);
  const self = selfConsumption(s, { id: 'self', grid, battery: bat }, SELF_CONSUMPTION_START, T0);
  const droop = frequencyDroop(s, { id: 'droop', battery: bat, maxResponseW: 2_000, pv }, DROOP_START, T0);
  const r = resolve([...zero.proposals, ...self.proposals, ...droop.proposals], { [command.pvLimit(pv)]: { neutral: pv.ratedW } });
  const total = SETS.reduce((n, t) => n + (r.get(t)?.value ?? NaN), 0);
  // What the battery does now (-4.3 kW, the offset included) and the 500 W probe step: -4.8 kW. Counting the
  // offset twice gave -5.8 kW.
  assert.ok(Math.abs(total - (3 * (-1_100 + DROOP_PHASE_W) - 500)) < 1, `battery ${total} W`);
  for (const t of SETS) {
    assert.ok(Math.abs((r.get(t)?.offset ?? NaN) - DROOP_PHASE_W) < 1e-6, `${t}: the offset is added once`);
    assert.ok(
      r.get(t)?.boundBy.some((b) => b.source === 'zero'),
      `${t}: zero export's bound is named as binding the chosen value`,
    );
  }
  // PV may rise by the step the battery takes, not into the import the droop causes (that would undo the response).
  assert.ok(Math.abs((r.get(command.pvLimit(pv))?.value ?? NaN) - 4_100) < 1, `PV limit ${r.get(command.pvLimit(pv))?.value} W`);
});

test("the utility's export limit and peak shaving's: the bounds are planned from the site without the droop's import", () => {
  // A symmetric battery this time: its one offset (-1 kW) counts a third on each phase.
  const sym: Battery = { ...bat, perPhase: false };
  const v = values('symmetric');
  const total: GridMeter = { ...grid, perPhase: false };
  const maxOf = (ps: readonly { target: string; kind: string; max?: number }[], t: string): number | undefined =>
    ps.find((p) => p.target === t && p.kind === 'bound')?.max;
  // Without the droop the grid imports 150 W, the battery charges 3.3 kW and PV is held at 3.6 kW. The export
  // limits are near (200 W): the probe asks the battery for 500 W more of its own 3.3 kW, not of the 4.3 kW with
  // the offset, and PV may rise by the step and the room without the droop's import.
  const ps = peakShaving(snap(T0, v), { id: 'peak', grid: total, battery: sym, pv, exportLimitW: 200 }, PEAK_SHAVING_START, T0);
  assert.equal(maxOf(ps.proposals, command.batteryPower(sym)), -3_300 - 500);
  assert.equal(maxOf(ps.proposals, command.pvLimit(pv)), 3_600 + (200 + 150) + 500);
  const ul = utilityLimits(
    snap(T0, { ...v, 'utility/Evaluated': 1, 'utility/ExportLimitW': 200 }),
    { id: 'utility', grid: total, battery: sym, pv },
    UTILITY_LIMITS_START,
    T0,
  );
  assert.equal(ul.status.state, 'ok', JSON.stringify(ul.status));
  assert.equal(maxOf(ul.proposals, command.batteryPower(sym)), -3_300 - 500);
  assert.equal(maxOf(ul.proposals, command.pvLimit(pv)), 3_600 + (200 - 25 + 150) + 500);
  // And the response is added once on top: the battery charges the step and the 1 kW more than without it.
  const r = resolve([...ul.proposals, ...frequencyDroop(snap(T0, v), { id: 'droop', battery: sym, maxResponseW: 2_000 }, DROOP_START, T0).proposals]);
  const w = r.get(command.batteryPower(sym))?.value ?? NaN;
  assert.ok(Math.abs(w - (-3_300 - 500 - 1_000)) < 1e-6, `battery ${w} W`);
});
