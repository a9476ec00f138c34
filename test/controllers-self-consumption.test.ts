import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Battery, GridMeter } from '../src/edge/capabilities.js';
import type { ChannelValue } from '../src/channels/value.js';
import { selfConsumption, SELF_CONSUMPTION_START, type SelfConsumptionState } from '../src/controllers/self-consumption.js';
import { phaseValues, snap, T0 } from './helpers/edge-snapshot.js';

// Self-consumption with a per-phase battery: each phase zeroes its own grid (issue 10), instead of an
// equal third of the total that leaves one phase importing while zero export holds the others.

const grid: GridMeter = { kind: 'grid-meter', component: 'grid', perPhase: true };
const perPhase: Battery = { kind: 'battery-setpoint', component: 'ess0', perPhase: true, phases: 3, maxChargeW: 6_000, maxDischargeW: 6_000 };

type Values = Record<string, number | ChannelValue>;
const phases = (g: [number, number, number], b: [number, number, number]): Values => phaseValues(g, b);

const cases: Array<{ name: string; v: Values; battery?: Battery; targetW?: number; want: [number, number, number]; detail: RegExp }> = [
  {
    name: 'L3 imports 346 W while L1 and L2 are at zero: only L3 discharges more',
    v: phases([0, 0, 346], [400, 400, 400]),
    want: [400, 400, 746],
    detail: /per phase: grid L1 0 W, L2 0 W, L3 346 W/,
  },
  {
    name: 'L1 exports 500 W, L2 imports 700 W, L3 at zero: L1 charges, L2 discharges',
    v: phases([-500, 700, 0], [0, 0, 0]),
    want: [-500, 700, 0],
    detail: /-> battery 200 W/,
  },
  {
    name: 'a phase above its third of the rating is capped at 2 kW, the others still zero their own grid',
    v: phases([3_000, 100, -100], [0, 0, 0]),
    want: [2_000, 100, -100],
    detail: /at its limit/,
  },
  {
    name: 'BMS allows 1.5 kW charge: each phase at most 500 W',
    v: { ...phases([-900, -200, -900], [0, 0, 0]), 'ess0/AllowedChargePower': 1_500 },
    want: [-500, -200, -500],
    detail: /L1 -500 W/,
  },
  { name: 'a target of 300 W: 100 W per phase', v: phases([400, 100, 100], [0, 0, 0]), targetW: 300, want: [300, 0, 0], detail: /target 300 W/ },
  {
    name: 'per-phase grid missing: the total is split equally (as before)',
    v: { 'grid/ActivePower': 3_000, 'ess0/ActivePower': 0 },
    want: [1_000, 1_000, 1_000],
    detail: /^self-consumption: grid 3000 W/,
  },
  {
    name: 'one phase of the grid stale: the total is split equally',
    v: { ...phases([0, 0, 900], [0, 0, 0]), 'grid/ActivePower_L2': { value: 0, ts: T0 - 60_000, quality: 'STALE' } },
    want: [300, 300, 300],
    detail: /^self-consumption: grid 900 W/,
  },
];

for (const c of cases) {
  test(`self-consumption per phase: ${c.name}`, () => {
    const r = selfConsumption(
      snap(T0, c.v),
      { id: 'self', grid, battery: c.battery ?? perPhase, ...(c.targetW === undefined ? {} : { targetW: c.targetW }) },
      SELF_CONSUMPTION_START,
      T0,
    );
    assert.equal(r.status.state, 'ok');
    assert.deepEqual(
      r.proposals.map((p) => [p.target, p.kind === 'target' ? Math.round(p.value) : null]),
      [
        ['ess0/SetActivePower_L1', c.want[0]],
        ['ess0/SetActivePower_L2', c.want[1]],
        ['ess0/SetActivePower_L3', c.want[2]],
      ],
    );
    assert.match(r.status.detail, c.detail);
  });
}

test('self-consumption per phase: each phase keeps its own loop (deadband and ramp per phase) and the why names its phase', () => {
  let st: SelfConsumptionState = SELF_CONSUMPTION_START;
  // First cycle: L3 imports 346 W.
  let r = selfConsumption(snap(T0, phases([0, 0, 346], [400, 400, 400])), { id: 'self', grid, battery: perPhase }, st, T0);
  st = r.state;
  assert.deepEqual(
    Object.values(st.phases ?? {}).map((p) => Math.round(p.lastCmdW ?? NaN)),
    [400, 400, 746],
  );
  assert.equal(Math.round(st.lastCmdW ?? NaN), 1_546);
  const why = r.proposals.map((p) => p.why);
  assert.deepEqual(why, [
    'self-consumption: L1 grid 0 W, target 0 W',
    'self-consumption: L2 grid 0 W, target 0 W',
    'self-consumption: L3 grid 346 W, target 0 W',
  ]);
  // Next cycle, L1 within the deadband (10 W): held; a 3 kW load step on L2: capped at its third of the rating.
  r = selfConsumption(snap(T0 + 1000, phases([10, 3_000, 0], [400, 400, 746])), { id: 'self', grid, battery: perPhase }, st, T0 + 1000);
  assert.deepEqual(
    r.proposals.map((p) => (p.kind === 'target' ? Math.round(p.value) : null)),
    [400, 2_000, 746],
  );
  assert.match(r.status.state === 'ok' ? r.status.detail : '', /L1 400 W \([^)]*deadband, held/);
  // The per-phase meter goes away: the total loop carries on from the sum, without the phases.
  r = selfConsumption(snap(T0 + 2000, { 'grid/ActivePower': 0, 'ess0/ActivePower': 3_146 }), { id: 'self', grid, battery: perPhase }, r.state, T0 + 2000);
  assert.equal(r.state.phases, undefined);
  assert.deepEqual(
    r.proposals.map((p) => (p.kind === 'target' ? Math.round(p.value) : null)),
    [1_049, 1_049, 1_049],
  );
});
