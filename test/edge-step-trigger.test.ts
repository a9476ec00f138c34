import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Battery, GridMeter } from '../src/edge/capabilities.js';
import { balanceOf, stepSeen } from '../src/edge/step-trigger.js';
import { phaseValues, snap, T0 } from './helpers/edge-snapshot.js';

const grid: GridMeter = { kind: 'grid-meter', component: 'grid', perPhase: true };
const ess: Battery = { kind: 'battery-setpoint', component: 'ess0', perPhase: true, phases: 3, maxChargeW: 6000, maxDischargeW: 6000 };

/** A site reading: grid and battery per phase (W), totals summed. */
function at(g: [number, number, number], b: [number, number, number]): ReturnType<typeof balanceOf> {
  const s = snap(T0, phaseValues(g, b));
  return balanceOf(s, grid, [ess], T0, 3000);
}

test('a load step on one phase is a step: the grid and the grid plus the battery both moved by it', () => {
  const before = at([50, 50, 50], [-1000, -1000, -1000]);
  const after = at([2550, 50, 50], [-1000, -1000, -1000]);
  assert.equal(Math.round(stepSeen(before, after, 300)), 2500);
});

test("the battery's own response to the last command is not a step: the grid moves, the grid plus the battery does not", () => {
  const before = at([2550, 50, 50], [-1000, -1000, -1000]);
  const responding = at([1300, 50, 50], [250, -1000, -1000]);
  assert.equal(stepSeen(before, responding, 300), 0);
});

test('curtailed PV released into the battery is not a step: the battery moves, the grid does not', () => {
  const before = at([50, 50, 50], [-500, -500, -500]);
  const releasing = at([50, 50, 50], [-1500, -1500, -1500]);
  assert.equal(stepSeen(before, releasing, 300), 0);
});

test('small changes (meter noise, a kettle under the threshold) and a missing grid reading start nothing', () => {
  const before = at([50, 50, 50], [0, 0, 0]);
  assert.equal(stepSeen(before, at([250, 60, 40], [0, 0, 0]), 300), 0);
  const noGrid = balanceOf(snap(T0, { 'ess0/ActivePower': 0 }), grid, [ess], T0, 3000);
  assert.equal(noGrid, undefined);
  assert.equal(stepSeen(before, noGrid, 300), 0);
  assert.equal(stepSeen(undefined, before, 300), 0);
});

test('a stale grid reading is no reading: no step is judged from it', () => {
  const old = snap(T0, { 'grid/ActivePower': { value: 3000, ts: T0 - 10_000, quality: 'GOOD' } });
  assert.equal(balanceOf(old, grid, [ess], T0, 3000), undefined);
});
