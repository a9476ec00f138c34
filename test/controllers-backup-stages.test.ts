import { test } from 'node:test';
import assert from 'node:assert/strict';
import { command, type Battery, type GridMeter, type Relay } from '../src/edge/capabilities.js';
import { controlConfigSchema } from '../src/edge/control-config.js';
import { planControl } from '../src/edge/control-plan.js';
import type { ControllerResult, Proposal } from '../src/edge/proposal.js';
import { resolveVariable } from '../src/edge/resolver.js';
import { backupReserve, BACKUP_START, type BackupReserveConfig, type BackupReserveState } from '../src/controllers/backup-reserve.js';
import { peakShaving, PEAK_SHAVING_START } from '../src/controllers/peak-shaving.js';
import { planStages } from '../src/controllers/shed-stages.js';
import { snap, T0 } from './helpers/edge-snapshot.js';

// Backup reserve (issue 10 item 5; docs/ems-modes.md "Backup reserve: recharge and staged shedding"): load prioritisation, reconnection:
// recharge to the floor on grid, and staged shedding by relay while islanded.

const bat: Battery = { kind: 'battery-setpoint', component: 'ess0', perPhase: false, phases: 3, maxChargeW: 5_000, maxDischargeW: 5_000 };
const grid: GridMeter = { kind: 'grid-meter', component: 'grid', perPhase: false };
const relay = (component: string, role: Relay['role'] = 'shed'): Relay => ({ kind: 'relay', component, role });
const pcc = relay('pcc', 'pcc');
const [r2, r3, r4] = [relay('relay2'), relay('relay3'), relay('relay4')];
const SET = command.batteryPower(bat);

/** The relays the controller holds open this step, and those it closes. */
function relays(r: ControllerResult<BackupReserveState>): { open: string[]; close: string[] } {
  const t = r.proposals.filter((p): p is Extract<Proposal, { kind: 'target' }> => p.kind === 'target' && p.target.startsWith('relay'));
  return {
    open: t.filter((p) => p.value === 0).map((p) => p.target.split('/')[0] ?? ''),
    close: t.filter((p) => p.value === 1).map((p) => p.target.split('/')[0] ?? ''),
  };
}

test('stages: one per shed relay by default, thresholds from the floor toward the minimum SoC, critical relays never', () => {
  assert.deepEqual(planStages([{ relays: [r2] }, { relays: [relay('fridge', 'critical')] }, { relays: [r3] }, { relays: [r4] }], 40, 10), [
    { relays: ['relay2'], socPct: 40 },
    { relays: ['relay3'], socPct: 30 },
    { relays: ['relay4'], socPct: 20 },
  ]);
  assert.deepEqual(planStages([{ relays: [r2, r3] }, { relays: [r4], socPct: 33 }], 40, 10), [
    { relays: ['relay2', 'relay3'], socPct: 40 },
    { relays: ['relay4'], socPct: 33 },
  ]);
});

test('islanded: stages shed as the SoC falls, with a minimum dwell, and restored in reverse with hysteresis; back on grid the rest return last first', () => {
  const cfg: BackupReserveConfig = {
    id: 'backup',
    battery: bat,
    floorPct: 40,
    minSocPct: 10,
    pcc,
    shed: [r2, r3, r4],
    confirmMs: 0,
    returnStableMs: 5_000,
    shedHysteresisPct: 5,
    shedDwellMs: 10_000,
    restoreStepMs: 2_000,
    restoreHoldMs: 3_000,
  };
  let st = BACKUP_START;
  // [seconds after T0, Hz, SoC, relays held open, relays being closed, what it shows]
  const steps: Array<[number, number, number, string[], string[], string]> = [
    [0, 50, 45, [], [], 'on grid: nothing shed'],
    [1, 0, 45, [], [], 'islanded above the floor: nothing shed'],
    [2, 0, 40, ['relay2'], [], 'stage 1 at the floor (the first move is not held by the dwell)'],
    [3, 0, 29, ['relay2'], [], 'stage 2 due at 30 %, but within the 10 s dwell'],
    [12, 0, 29, ['relay2', 'relay3'], [], 'stage 2 after the dwell'],
    [13, 0, 34, ['relay2', 'relay3'], [], 'SoC 34 %: under 30 + 5 % hysteresis, stays shed'],
    [22, 0, 35, ['relay2'], ['relay3'], 'SoC 35 % after the dwell: stage 2 restored'],
    [23, 0, 19, ['relay2'], ['relay3'], 'SoC 19 %: stage 2 due again but within the dwell'],
    [32, 0, 19, ['relay2', 'relay3'], [], 'stage 2 shed again after the dwell (its restore command ends)'],
    [42, 0, 19, ['relay2', 'relay3', 'relay4'], [], 'stage 3 (20 %) after another dwell'],
    [43, 50, 19, ['relay2', 'relay3', 'relay4'], [], 'grid back: still islanded while it proves stable'],
    [48, 50, 19, [], [], 'reconnected: the PCC closes, loads wait a restore step'],
    [50, 50, 19, [], ['relay4'], 'stage 3 back first'],
    [51, 50, 19, [], ['relay4'], 'one step at a time'],
    [52, 50, 19, [], ['relay3', 'relay4'], 'then stage 2'],
    [54, 50, 19, [], ['relay2', 'relay3'], 'then stage 1; the close of relay4 ends after its hold'],
    [58, 50, 19, [], [], 'all restored, nothing more proposed for the relays'],
  ];
  for (const [sec, hz, soc, open, close, what] of steps) {
    const t = T0 + sec * 1_000;
    const r = backupReserve(snap(t, { 'grid/Frequency': hz, 'ess0/Soc': soc }), cfg, st, t);
    st = r.state;
    const got = relays(r);
    assert.deepEqual(got.open, open, `${sec} s: ${what}: open ${JSON.stringify(got.open)}`);
    assert.deepEqual(got.close, close, `${sec} s: ${what}: closing ${JSON.stringify(got.close)}`);
    assert.ok(!got.open.includes('critical'), 'never a critical relay');
  }
  assert.equal(st.stages.shed, 0);
});

test('on grid below the floor: the battery recharges from the grid at the configured rate back to the floor, with hysteresis; never islanded or with the grid in doubt', () => {
  const cfg: BackupReserveConfig = { id: 'backup', battery: bat, floorPct: 40, rechargeW: 3_000, rechargeHysteresisPct: 1, confirmMs: 2_000 };
  let st = BACKUP_START;
  const max = (r: ControllerResult<BackupReserveState>): number | undefined =>
    (r.proposals.find((p) => p.kind === 'bound' && p.target === SET && p.criticality === 'business') as { max?: number } | undefined)?.max;
  // [seconds, Hz, SoC, extra channels, expected charge bound (W, undefined = none)]
  const steps: Array<[number, number, number, Record<string, number>, number | undefined, string]> = [
    [0, 50, 39.5, {}, undefined, 'within the hysteresis under the floor: no recharge yet'],
    [1, 50, 38.9, {}, -3_000, 'more than 1 % under: recharge at 3 kW'],
    [2, 50, 39.8, {}, -3_000, 'keeps recharging until the floor'],
    [3, 50, 39.9, { 'ess0/AllowedChargePower': 1_200 }, -1_200, 'never more than the BMS allows'],
    [4, 50, 40, {}, undefined, 'at the floor: done'],
    [5, 50, 39.5, {}, undefined, 'a small dip does not restart it'],
    [6, 50, 38, {}, -3_000, 'a real one does'],
    [7, 0, 38, {}, undefined, 'grid loss suspected: no grid charging'],
  ];
  for (const [sec, hz, soc, extra, want, what] of steps) {
    const t = T0 + sec * 1_000;
    const r = backupReserve(snap(t, { 'grid/Frequency': hz, 'ess0/Soc': soc, ...extra }), cfg, st, t);
    st = r.state;
    assert.equal(max(r), want, `${sec} s: ${what}`);
  }
  const island = backupReserve(snap(T0 + 10_000, { 'grid/Frequency': 0, 'ess0/Soc': 38 }), cfg, st, T0 + 10_000);
  assert.equal(island.state.mode, 'islanded');
  assert.equal(max(island), undefined, 'islanded: nothing to recharge from');
});

test('the recharge stays within peak shaving: the import limit (same class) gives the least intervention; self-consumption may charge more from PV', () => {
  const cfg: BackupReserveConfig = { id: 'backup', battery: bat, floorPct: 40, rechargeW: 3_000 };
  // The site imports 1.5 kW with an idle battery; the import limit is 2.5 kW: only 1 kW of grid charging fits.
  const values = { 'grid/Frequency': 50, 'grid/ActivePower': 1_500, 'ess0/Soc': 30, 'ess0/ActivePower': 0 };
  const b = backupReserve(snap(T0, values), cfg, BACKUP_START, T0);
  const p = peakShaving(snap(T0, values), { id: 'peak', grid, battery: bat, importLimitW: 2_500 }, PEAK_SHAVING_START, T0);
  assert.equal(resolveVariable(SET, [...b.proposals, ...p.proposals]).value, -1_000);
  // Without a limit: the 3 kW recharge; with a self-consumption target of 4 kW charge (PV surplus): 4 kW.
  assert.equal(resolveVariable(SET, b.proposals).value, -3_000);
  const pvSurplus: Proposal = { kind: 'target', target: SET, value: -4_000, criticality: 'optimisation', source: 'self', why: 'PV surplus' };
  assert.equal(resolveVariable(SET, [...b.proposals, pvSurplus]).value, -4_000);
});

test('configuration: a stage naming a critical or unknown relay is refused, naming the field', () => {
  const parsed = controlConfigSchema.parse({
    assets: [
      { type: 'grid-meter', component: 'grid' },
      { type: 'battery', component: 'ess0', control: 'setpoint', maxChargeW: 5_000, maxDischargeW: 5_000 },
    ],
    shedding: [{ meter: 2 }, { meter: 3, critical: true }],
    controllers: [{ kind: 'backup-reserve', id: 'reserve', floorPct: 40, shedStages: [{ relays: ['relay2'] }, { relays: ['relay3', 'relay9'] }] }],
  });
  const r: { ok: true } | { ok: false; problems: string[] } = planControl(parsed, { timeZone: 'Africa/Kampala' });
  assert.ok(!r.ok, 'refused');
  const problems = r.problems;
  assert.ok(
    problems.some((x) => /shedStages\.1\.relays\.0: relay3 is a critical relay, never shed automatically/.test(x)),
    problems.join('\n'),
  );
  assert.ok(
    problems.some((x) => /shedStages\.1\.relays\.1: no relay "relay9"/.test(x)),
    problems.join('\n'),
  );
  const good = planControl(controlConfigSchema.parse({ ...parsed, controllers: [{ kind: 'backup-reserve', id: 'reserve', floorPct: 40, rechargeW: 2_000 }] }), {
    timeZone: 'Africa/Kampala',
  });
  assert.ok(good.ok);
  const c = good.plan.controllers[0]?.config as { shed: Relay[]; rechargeW: number; minSocPct: number };
  assert.deepEqual(
    c.shed.map((x) => x.component),
    ['relay2'],
  );
  assert.equal(c.rechargeW, 2_000);
});
