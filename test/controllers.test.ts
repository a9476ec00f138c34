import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveCapabilities, type Battery, type GridMeter, type ModeBattery, type PvInverter, type Relay } from '../src/edge/capabilities.js';
import type { ControllerResult, Proposal } from '../src/edge/proposal.js';
import { fresh, read } from '../src/edge/snapshot.js';
import { planModes, MODE_PLAN_START } from '../src/edge/mode-plan.js';
import { selfConsumption, SELF_CONSUMPTION_START } from '../src/controllers/self-consumption.js';
import { peakShaving, PEAK_SHAVING_START } from '../src/controllers/peak-shaving.js';
import { chargeOnly, CHARGE_ONLY_START } from '../src/controllers/charge-only.js';
import { backupReserve, BACKUP_START, type BackupReserveState } from '../src/controllers/backup-reserve.js';
import { externalControl, EXTERNAL_START } from '../src/controllers/external-control.js';
import { manualSetpoint, MANUAL_START } from '../src/controllers/manual-setpoint.js';
import { passive, PASSIVE_START } from '../src/controllers/passive.js';
import { chargeSchedule, CHARGE_SCHEDULE_START } from '../src/controllers/charge-schedule.js';
import { droopPower, frequencyDroop, DROOP_START } from '../src/controllers/frequency-droop.js';
import type { ChannelValue } from '../src/channels/value.js';
import { snap, T0 } from './helpers/edge-snapshot.js';

type Values = Record<string, number | ChannelValue>;

const grid: GridMeter = { kind: 'grid-meter', component: 'grid', perPhase: true };
const bat: Battery = { kind: 'battery-setpoint', component: 'ess0', perPhase: false, phases: 3, maxChargeW: 5_000, maxDischargeW: 5_000 };
const pv: PvInverter = { kind: 'pv-limit', component: 'pv0', perPhase: false, phases: 3, ratedW: 10_000 };
const shed: Relay = { kind: 'relay', component: 'relay1', role: 'shed' };
const pcc: Relay = { kind: 'relay', component: 'pcc', role: 'pcc' };
const H = 3600_000;

const one = (r: ControllerResult<unknown>, target = 'ess0/SetActivePower'): Proposal | undefined => r.proposals.find((p) => p.target === target);
const stateOf = (r: ControllerResult<unknown>): string => r.status.state;
const textOf = (r: ControllerResult<unknown>): string => (r.status.state === 'ok' ? r.status.detail : r.status.reason);

test('snapshot helpers: only GOOD and fresh values steer', () => {
  const s = snap(T0, {
    a: 1,
    b: { value: 2, ts: T0, quality: 'STALE' },
    c: { value: 3, ts: T0 - 10_000, quality: 'GOOD' },
    d: { value: null, ts: T0, quality: 'ERROR' },
  });
  assert.equal(fresh(s, 'a', T0, 3_000), 1);
  assert.equal(fresh(s, 'b', T0, 3_000), undefined);
  assert.match(read(s, 'c', T0, 3_000).ok ? '' : (read(s, 'c', T0, 3_000) as { why: string }).why, /10 s old/);
  assert.equal(fresh(s, 'd', T0, 3_000), undefined);
  assert.equal(fresh(s, 'missing', T0, 3_000), undefined);
  assert.throws(() => (s.channels as Map<string, unknown>).get('a') && Object.assign(s.channels.get('a') as object, { value: 9 }));
});

test('capabilities resolve from configuration and name every problem', () => {
  const ok = resolveCapabilities([
    { type: 'grid-meter', component: 'grid' },
    { type: 'battery', component: 'ess0', control: 'modes', maxChargeW: 5_000, maxDischargeW: 5_000 },
    { type: 'pv', component: 'pv0', ratedW: 8_000, perPhase: true },
    { type: 'relay', component: 'relay1', role: 'shed' },
  ]);
  assert.ok(ok.ok);
  assert.equal(ok.caps.batteries[0]?.kind, 'battery-modes');
  const bad = resolveCapabilities([
    { type: 'battery', component: 'ess0', control: 'modes', perPhase: true, maxChargeW: 1, maxDischargeW: 1 },
    { type: 'pv', component: 'ess0', ratedW: -1 },
  ]);
  assert.ok(!bad.ok);
  assert.ok(bad.problems.some((p) => /no per-phase control/.test(p)));
  assert.ok(bad.problems.some((p) => /assets\.1\.ratedW/.test(p)));
});

const sc: Array<{ name: string; v: Values; want: number | undefined; state: string }> = [
  { name: 'importing 1.2 kW, battery idle: discharge 1.2 kW', v: { 'grid/ActivePower': 1_200, 'ess0/ActivePower': 0 }, want: 1_200, state: 'ok' },
  {
    name: 'exporting 800 W while discharging 2 kW: feed-forward -> 1.2 kW',
    v: { 'grid/ActivePower': -800, 'ess0/ActivePower': 2_000 },
    want: 1_200,
    state: 'ok',
  },
  { name: 'importing 9 kW: at the 5 kW rating', v: { 'grid/ActivePower': 9_000, 'ess0/ActivePower': 0 }, want: 5_000, state: 'ok' },
  {
    name: 'BMS allows only 1 kW charge',
    v: { 'grid/ActivePower': -4_000, 'ess0/ActivePower': 0, 'ess0/AllowedChargePower': 1_000 },
    want: -1_000,
    state: 'ok',
  },
  {
    name: 'grid meter stale: failed, no proposal',
    v: { 'grid/ActivePower': { value: 0, ts: T0 - 60_000, quality: 'STALE' as const }, 'ess0/ActivePower': 0 },
    want: undefined,
    state: 'failed',
  },
];
for (const c of sc) {
  test(`self-consumption: ${c.name}`, () => {
    const r = selfConsumption(snap(T0, c.v), { id: 'sc', grid, battery: bat }, SELF_CONSUMPTION_START, T0);
    assert.equal(stateOf(r), c.state, textOf(r));
    const p = one(r);
    assert.equal(p?.kind === 'target' ? p.value : undefined, c.want);
  });
}

test('self-consumption with a per-phase battery splits the total over its phases', () => {
  const r = selfConsumption(
    snap(T0, { 'grid/ActivePower': 3_000, 'ess0/ActivePower': 0 }),
    { id: 'sc', grid, battery: { ...bat, perPhase: true } },
    SELF_CONSUMPTION_START,
    T0,
  );
  assert.deepEqual(
    r.proposals.map((p) => [p.target, p.kind === 'target' ? p.value : null]),
    [
      ['ess0/SetActivePower_L1', 1_000],
      ['ess0/SetActivePower_L2', 1_000],
      ['ess0/SetActivePower_L3', 1_000],
    ],
  );
});

const ps: Array<{ name: string; v: Values; cfg: object; state: string; min?: number; max?: number; pvMax?: number }> = [
  {
    name: 'import 12 kW over a 10 kW limit: discharge at least 2 kW more',
    v: { 'grid/ActivePower': 12_000, 'ess0/ActivePower': 500 },
    cfg: { importLimitW: 10_000 },
    min: 2_500,
    state: 'ok',
  },
  {
    name: 'under the import limit: the bound says how much charging is still allowed',
    v: { 'grid/ActivePower': 4_000, 'ess0/ActivePower': 0 },
    cfg: { importLimitW: 10_000 },
    min: -6_000,
    state: 'ok',
  },
  {
    name: 'export 3 kW over a 1 kW limit: charge at least 2 kW',
    v: { 'grid/ActivePower': -3_000, 'ess0/ActivePower': 0 },
    cfg: { exportLimitW: 1_000 },
    max: -2_000,
    state: 'ok',
  },
  {
    name: 'export excess with a full battery and PV: PV curtailed by the excess',
    v: { 'grid/ActivePower': -3_000, 'ess0/ActivePower': 0, 'ess0/AllowedChargePower': 0, 'pv0/ActivePower': 6_000 },
    cfg: { exportLimitW: 1_000, pv },
    pvMax: 4_000,
    state: 'ok',
  },
  { name: 'no limits: idle with the reason', v: { 'grid/ActivePower': 0 }, cfg: {}, state: 'idle' },
];
for (const c of ps) {
  test(`peak shaving: ${c.name}`, () => {
    const r = peakShaving(snap(T0, c.v), { id: 'ps', grid, battery: bat, ...c.cfg }, PEAK_SHAVING_START, T0);
    assert.equal(stateOf(r), c.state, textOf(r));
    const bounds = r.proposals.filter((p) => p.kind === 'bound' && p.target === 'ess0/SetActivePower');
    if ('min' in c)
      assert.equal(
        bounds.find((b) => b.kind === 'bound' && b.min !== undefined)?.kind === 'bound'
          ? (bounds.find((b) => b.kind === 'bound' && b.min !== undefined) as { min: number }).min
          : null,
        c.min,
      );
    if ('max' in c) assert.equal((bounds.find((b) => b.kind === 'bound' && b.max !== undefined) as { max: number } | undefined)?.max, c.max);
    if ('pvMax' in c) assert.equal((one(r, 'pv0/ActivePowerLimit') as { max: number } | undefined)?.max, c.pvMax);
  });
}

const tz = 'Africa/Kampala';
const kampala = (hhmm: string): number => Date.parse(`2026-04-07T${hhmm}:00+03:00`);
const co = [
  { name: 'in the window, SoC below target: charge at the rate', at: '02:00', soc: 40, st: false, want: -3_000, state: 'ok' },
  { name: 'outside the window: idle', at: '10:00', soc: 40, st: false, want: undefined, state: 'idle' },
  { name: 'at the target: idle', at: '02:00', soc: 90, st: true, want: undefined, state: 'idle' },
  { name: 'just below target after stopping: hysteresis keeps it idle', at: '02:00', soc: 89, st: false, want: undefined, state: 'idle' },
];
for (const c of co) {
  test(`charge-only: ${c.name}`, () => {
    const r = chargeOnly(
      snap(kampala(c.at), { 'ess0/Soc': c.soc }),
      { id: 'co', battery: bat, socTargetPct: 90, rateW: 3_000, window: { from: '23:00', to: '05:00' }, timeZone: tz },
      { charging: c.st },
      kampala(c.at),
    );
    assert.equal(stateOf(r), c.state, textOf(r));
    assert.equal((one(r) as { value?: number } | undefined)?.value, c.want);
  });
}
test('charge-only: SoC missing fails, never charges blind', () => {
  const r = chargeOnly(
    snap(kampala('02:00'), {}),
    { id: 'co', battery: bat, socTargetPct: 90, rateW: 3_000, timeZone: tz },
    CHARGE_ONLY_START,
    kampala('02:00'),
  );
  assert.equal(stateOf(r), 'failed');
});

test('backup reserve: floor kept on grid; grid loss islands and sheds at the floor; a stable return reconnects and restores', () => {
  const cfg = { id: 'backup', battery: bat, floorPct: 30, pcc, shed: [shed], confirmMs: 2_000, returnStableMs: 60_000 };
  let st: BackupReserveState = BACKUP_START;
  const step = (t: number, hz: number, soc: number) => {
    const r = backupReserve(snap(t, { 'grid/Frequency': hz, 'ess0/Soc': soc }), cfg, st, t);
    st = r.state;
    return r;
  };
  let r = step(T0, 50, 25);
  assert.equal((one(r) as { max?: number }).max, 0, 'at the floor no discharge');
  assert.equal(one(r)?.criticality, 'supply-quality');
  assert.equal(step(T0 + 1_000, 50, 60).proposals.length, 0, 'above the floor nothing');
  step(T0 + 2_000, 0, 60);
  assert.equal(st.mode, 'loss-suspected');
  r = step(T0 + 4_000, 0, 60);
  assert.equal(st.mode, 'islanded');
  assert.deepEqual(
    r.proposals.map((p) => [p.target, (p as { value: number }).value, p.criticality]),
    [['pcc/SetClosed', 0, 'safety']],
    'islanded above the floor: nothing shed yet',
  );
  r = step(T0 + 4_500, 0, 29);
  assert.deepEqual(
    r.proposals.map((p) => [p.target, (p as { value: number }).value, p.criticality]),
    [
      ['pcc/SetClosed', 0, 'safety'],
      ['relay1/SetClosed', 0, 'safety'],
    ],
    'stage 1 shed at the floor',
  );
  r = step(T0 + 5_000, 50, 28);
  assert.equal(st.mode, 'return-pending');
  assert.equal(r.proposals.length, 2, 'still islanded while the grid proves stable');
  r = step(T0 + 65_000, 50, 28);
  assert.equal(st.mode, 'on-grid');
  assert.deepEqual(
    r.proposals.filter((p) => p.kind === 'target').map((p) => [p.target, (p as { value: number }).value]),
    [['pcc/SetClosed', 1]],
    'the PCC closes first',
  );
  r = step(T0 + 67_000, 50, 28);
  assert.deepEqual(
    r.proposals.filter((p) => p.kind === 'target').map((p) => [p.target, (p as { value: number }).value]),
    [
      ['pcc/SetClosed', 1],
      ['relay1/SetClosed', 1],
    ],
    'the shed load comes back a restore step later',
  );
  r = backupReserve(snap(T0 + 68_000, { 'ess0/Soc': 55 }), cfg, st, T0 + 68_000);
  assert.equal(stateOf(r), 'failed', 'no frequency: loss cannot be detected, said so');
});

test('external control: the entry in force, P and Q; overlaps refused; none in force is idle', () => {
  const schedule = [
    { fromMs: T0, toMs: T0 + H, activeW: -2_000, reactiveVar: 500 },
    { fromMs: T0 + H, toMs: T0 + 2 * H, activeW: 3_000 },
  ];
  const r = externalControl(snap(T0, {}), { id: 'ext', battery: bat, schedule }, EXTERNAL_START, T0 + 10_000);
  assert.deepEqual(
    r.proposals.map((p) => [p.target, (p as { value: number }).value]),
    [
      ['ess0/SetActivePower', -2_000],
      ['ess0/SetReactivePower', 500],
    ],
  );
  assert.equal((one(externalControl(snap(T0, {}), { id: 'ext', battery: bat, schedule }, EXTERNAL_START, T0 + H)) as { value: number }).value, 3_000);
  assert.equal(stateOf(externalControl(snap(T0, {}), { id: 'ext', battery: bat, schedule }, EXTERNAL_START, T0 + 3 * H)), 'idle');
  const bad = externalControl(
    snap(T0, {}),
    { id: 'ext', battery: bat, schedule: [...schedule, { fromMs: T0 + 30 * 60_000, toMs: T0 + H, activeW: 0 }] },
    EXTERNAL_START,
    T0,
  );
  assert.equal(stateOf(bad), 'failed');
  assert.match(textOf(bad), /entries 0 and 2 overlap/);
});

test('manual setpoint until a time; passive proposes nothing and says so', () => {
  assert.equal(
    (one(manualSetpoint(snap(T0, {}), { id: 'm', battery: bat, setpointW: 1_500, setBy: 'amina', untilMs: T0 + H }, MANUAL_START, T0)) as { value: number })
      .value,
    1_500,
  );
  assert.equal(stateOf(manualSetpoint(snap(T0, {}), { id: 'm', battery: bat, setpointW: 1_500, setBy: 'amina', untilMs: T0 }, MANUAL_START, T0)), 'idle');
  const p = passive(snap(T0, { 'grid/ActivePower': 1 }), { id: 'p' }, PASSIVE_START, T0);
  assert.equal(p.proposals.length, 0);
  assert.match(textOf(p), /monitoring only/);
});

test('charge schedules: every window in force is proposed, stop SoC respected', () => {
  const entries = [
    { window: { from: '01:00', to: '05:00' }, powerW: -4_000, stopSocPct: 95 },
    { window: { from: '03:00', to: '06:00' }, powerW: -2_000 },
    { window: { from: '18:00', to: '22:00' }, powerW: 3_000, stopSocPct: 40 },
  ];
  const r = chargeSchedule(
    snap(kampala('04:00'), { 'ess0/Soc': 50 }),
    { id: 'cs', battery: bat, timeZone: tz, entries },
    CHARGE_SCHEDULE_START,
    kampala('04:00'),
  );
  assert.deepEqual(
    r.proposals.map((p) => (p as { value: number }).value),
    [-4_000, -2_000],
  );
  const evening = chargeSchedule(
    snap(kampala('19:00'), { 'ess0/Soc': 35 }),
    { id: 'cs', battery: bat, timeZone: tz, entries },
    CHARGE_SCHEDULE_START,
    kampala('19:00'),
  );
  assert.equal(stateOf(evening), 'idle');
  assert.match(textOf(evening), /reached its stop at 40/);
});

test('frequency droop: f1-f4 curve and bounds', () => {
  const th = { f1: 49.5, f2: 49.9, f3: 50.1, f4: 50.5, maxW: 4_000 };
  const table: Array<[number, number]> = [
    [49.4, 4_000],
    [49.5, 4_000],
    [49.7, 2_000],
    [49.9, 0],
    [50, 0],
    [50.1, 0],
    [50.3, -2_000],
    [50.6, -4_000],
  ];
  for (const [f, w] of table) assert.ok(Math.abs(droopPower(f, th) - w) < 1e-6, `${f} Hz -> ${droopPower(f, th)}`);
  const under = frequencyDroop(snap(T0, { 'grid/Frequency': 49.7 }), { id: 'droop', battery: bat, maxResponseW: 4_000 }, DROOP_START, T0);
  assert.deepEqual([one(under)?.kind, Math.round((one(under) as { value: number }).value), one(under)?.criticality], ['offset', 2_000, 'supply-quality']);
  const over = frequencyDroop(snap(T0, { 'grid/Frequency': 50.3 }), { id: 'droop', battery: bat, maxResponseW: 4_000 }, DROOP_START, T0);
  assert.ok(Math.abs((one(over) as { value: number }).value + 2_000) < 1e-6);
  assert.equal(stateOf(frequencyDroop(snap(T0, { 'grid/Frequency': 50.02 }), { id: 'droop', battery: bat, maxResponseW: 4_000 }, DROOP_START, T0)), 'idle');
  assert.equal(stateOf(frequencyDroop(snap(T0, {}), { id: 'droop', battery: bat, maxResponseW: 4_000 }, DROOP_START, T0)), 'failed');
  // The grid meter reads 0 Hz while the utility is down: no grid to support, not a full under-frequency response.
  const dead = frequencyDroop(snap(T0, { 'grid/Frequency': 0 }), { id: 'droop', battery: bat, maxResponseW: 4_000 }, DROOP_START, T0);
  assert.equal(stateOf(dead), 'idle');
  assert.equal(dead.proposals.length, 0);
});

test('SRNE mode planner: power intent -> modes and caps, with the minimum dwell', () => {
  const srne: ModeBattery = {
    kind: 'battery-modes',
    component: 'ess0',
    phases: 1,
    maxChargeW: 5_000,
    maxDischargeW: 5_000,
    nominalVoltageV: 48,
    maxChargeCurrentA: 100,
    maxAcChargeCurrentA: 60,
    minDwellMs: 15 * 60_000,
  };
  const a = planModes(2_000, srne, MODE_PLAN_START, T0);
  assert.equal(a.settings['ess0/OutputPriority'], 2); // SBU
  const b = planModes(-1_920, srne, a.state, T0 + 60_000);
  assert.match(b.held ?? '', /dwell/);
  assert.equal(b.settings['ess0/OutputPriority'], 2, 'held');
  const c = planModes(-1_920, srne, a.state, T0 + 16 * 60_000);
  assert.deepEqual([c.settings['ess0/OutputPriority'], c.settings['ess0/ChargerPriority'], c.settings['ess0/MaxAcChargeCurrent']], [1, 2, 40]); // UTI, SNU, 1920 W / 48 V
  assert.equal(planModes(-1_900, srne, c.state, T0 + 17 * 60_000).state, c.state, 'no change, nothing to write');
});
