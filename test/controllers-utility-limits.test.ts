import { test } from 'node:test';
import assert from 'node:assert/strict';
import { utilityLimits, UTILITY_LIMITS_START, type UtilityLimitsConfig } from '../src/controllers/utility-limits.js';
import { resolve } from '../src/edge/resolver.js';
import { envelope, type SafetyConfig } from '../src/edge/safety-envelope.js';
import type { Proposal } from '../src/edge/proposal.js';
import { snap, T0 } from './helpers/edge-snapshot.js';

// The utility-limits controller on hand-made snapshots: which bounds each limit gives, the class it
// proposes in, and the shedding sequence when the battery cannot cover an import limit.

const CFG: UtilityLimitsConfig = {
  id: 'utility',
  grid: { kind: 'grid-meter', component: 'grid', perPhase: false },
  battery: { kind: 'battery-setpoint', component: 'ess0', perPhase: false, phases: 3, maxChargeW: 5000, maxDischargeW: 3000 },
  pv: { kind: 'pv-limit', component: 'pv0', perPhase: false, phases: 3, ratedW: 8000 },
  shed: [
    { kind: 'relay', component: 'relay2', role: 'shed' },
    { kind: 'relay', component: 'relay3', role: 'critical' },
    { kind: 'relay', component: 'relay4', role: 'shed' },
  ],
  shedAfterMs: 5000,
  restoreAfterMs: 10_000,
};

const site = (o: Record<string, number>, at = T0) =>
  snap(at, { 'utility/Evaluated': 1, 'ess0/ActivePower': 0, 'pv0/ActivePower': 0, 'pv0/ActivePowerLimit': 8000, ...o });
const maxOf = (ps: readonly Proposal[], target: string): number | undefined =>
  Math.min(...ps.filter((p) => p.kind === 'bound' && p.target === target).map((p) => (p.kind === 'bound' ? (p.max ?? Infinity) : Infinity)));

test('export limit: the battery charges first, PV takes the rest; bounds in the supply-quality class', () => {
  // 6 kW PV, 1 kW load: 5 kW export against a 1.5 kW limit; the battery may charge 5 kW.
  const r = utilityLimits(site({ 'grid/ActivePower': -5000, 'pv0/ActivePower': 6000, 'utility/ExportLimitW': 1500 }), CFG, UTILITY_LIMITS_START, T0);
  assert.equal(r.status.state, 'ok');
  assert.ok(r.proposals.every((p) => p.criticality === 'supply-quality'));
  assert.equal(maxOf(r.proposals, 'ess0/SetActivePower'), -3525, 'charge 3.5 kW (25 W inside the limit)');
  assert.equal(maxOf(r.proposals, 'pv0/ActivePowerLimit'), 6000, 'PV untouched while the battery absorbs it');
});

test("the most restrictive of the utility's and the site's own limit holds, and the envelope still wins", () => {
  const r = utilityLimits(
    site({ 'grid/ActivePower': -3000, 'pv0/ActivePower': 4000, 'utility/ExportLimitW': 2000 }),
    { ...CFG, battery: undefined },
    UTILITY_LIMITS_START,
    T0,
  );
  const site0: Proposal = { kind: 'bound', target: 'pv0/ActivePowerLimit', min: 0, max: 2500, criticality: 'business', source: 'peak', why: 'own limit' };
  const envelope: Proposal = {
    kind: 'bound',
    target: 'pv0/ActivePowerLimit',
    min: 0,
    max: 1000,
    criticality: 'safety',
    source: 'envelope',
    why: 'inputs poor',
  };
  const v = (ps: readonly Proposal[]): number | undefined => resolve(ps, { 'pv0/ActivePowerLimit': { neutral: 8000 } }).get('pv0/ActivePowerLimit')?.value;
  assert.equal(v(r.proposals), 2975, 'utility alone: PV to 2975 W');
  assert.equal(v([...r.proposals, site0]), 2500, "the site's own tighter limit (business) still applies within the utility's");
  assert.equal(v([...r.proposals, site0, envelope]), 1000, 'the safety envelope wins over both');
});

test('import limit: the battery discharges by feed-forward; what it cannot give sheds non-critical relays one at a time, never a critical one, and restores', () => {
  const over = (w: number, dt: number) => site({ 'grid/ActivePower': w, 'ess0/ActivePower': 3000, 'utility/ImportLimitW': 2000 }, T0 + dt);
  let r = utilityLimits(over(4000, 0), CFG, UTILITY_LIMITS_START, T0);
  assert.equal(r.status.state, 'ok');
  const min = Math.max(
    ...r.proposals.filter((p) => p.kind === 'bound' && p.target === 'ess0/SetActivePower').map((p) => (p.kind === 'bound' ? (p.min ?? -Infinity) : -Infinity)),
  );
  assert.equal(min, 3000, 'at most the battery can give (it would need 5025 W)');
  assert.equal(r.state.shed.length, 0, 'not shed at once');
  r = utilityLimits(over(4000, 5000), CFG, r.state, T0 + 5000);
  assert.deepEqual(r.state.shed, ['relay2']);
  assert.ok(r.proposals.some((p) => p.kind === 'bound' && p.target === 'relay2/SetClosed' && p.max === 0));
  r = utilityLimits(over(3000, 10_000), CFG, r.state, T0 + 10_000);
  assert.deepEqual(r.state.shed, ['relay2', 'relay4'], 'the next non-critical one; relay3 is critical');
  r = utilityLimits(over(2500, 15_000), CFG, r.state, T0 + 15_000);
  assert.equal(r.status.state, 'failed', 'nothing left to shed and still over: says so');
  r = utilityLimits(over(1000, 20_000), CFG, r.state, T0 + 20_000);
  r = utilityLimits(over(1000, 30_000), CFG, r.state, T0 + 30_000);
  assert.deepEqual(r.state.shed, ['relay2'], 'the last one shed is restored first, after 10 s well under the limit');
});

test('connect = 0 puts PV at 0 and the battery idle; a stopped client means no proposals, said as failed', () => {
  const r = utilityLimits(site({ 'grid/ActivePower': 500, 'utility/Connect': 0 }), CFG, UTILITY_LIMITS_START, T0);
  assert.equal(maxOf(r.proposals, 'pv0/ActivePowerLimit'), 0);
  assert.equal(maxOf(r.proposals, 'ess0/SetActivePower'), 0);
  const none = utilityLimits(snap(T0, { 'grid/ActivePower': 500 }), CFG, UTILITY_LIMITS_START, T0);
  assert.equal(none.status.state, 'failed');
  assert.equal(none.proposals.length, 0);
});

test("an export limit far away leaves the battery free although the site's own zero export holds PV back (found in the demo)", () => {
  // 5 kW limit; the site imports 1.9 kW; PV produces at the 2 kW limit zero export set (held back).
  const snapshot = site({
    'grid/ActivePower': 1900,
    'pv0/ActivePower': 2000,
    'pv0/ActivePowerLimit': 2000,
    'ess0/ActivePower': 100,
    'utility/ExportLimitW': 5000,
  });
  const far = utilityLimits(snapshot, CFG, UTILITY_LIMITS_START, T0);
  assert.ok((maxOf(far.proposals, 'ess0/SetActivePower') ?? Infinity) >= 3000, 'the battery may discharge to its rating, not held at its measurement');
  // Near the limit (300 W of room), held-back PV still gets room from the battery, a step at a time.
  const near = utilityLimits(
    site({ 'grid/ActivePower': -4675, 'pv0/ActivePower': 6000, 'pv0/ActivePowerLimit': 6000, 'ess0/ActivePower': 0, 'utility/ExportLimitW': 5000 }),
    CFG,
    UTILITY_LIMITS_START,
    T0,
  );
  assert.ok((maxOf(near.proposals, 'ess0/SetActivePower') ?? 0) < 0, 'the battery charges so PV may rise');
});

// The storage target (CSIP-AUS v1.3 opModStorageTargetW, discharge positive) through the resolver with
// the real safety envelope: the battery goes to the target within the other utility limits in force and
// within the envelope, and the status says when and why the target is not met.
const ENVELOPE: SafetyConfig = {
  grid: CFG.grid,
  batteries: CFG.battery ? [{ battery: CFG.battery, socMinPct: 10, socMaxPct: 95, rampWPerS: 1e9 }] : [],
  pv: [],
  generators: [],
  exportLimitW: null,
  maxAgeMs: 5000,
};
const batteryAfter = (snapshot: ReturnType<typeof site>, cfg = CFG) => {
  const r = utilityLimits(snapshot, cfg, UTILITY_LIMITS_START, T0);
  const env = envelope(snapshot, ENVELOPE, {}, 1000, T0);
  const v = resolve([...r.proposals, ...env.bounds], { 'ess0/SetActivePower': { neutral: 0 } }).get('ess0/SetActivePower')?.value;
  return { r, v, text: r.status.state === 'ok' ? r.status.detail : r.status.state === 'failed' ? r.status.reason : r.status.reason };
};

test('storage target: the battery is driven to it, the other utility limits and the envelope bound it (table)', () => {
  // grid: + import, - export (W); battery: + discharge; the margin inside a limit is 25 W.
  const rows: { name: string; o: Record<string, number>; want: number; says?: RegExp }[] = [
    { name: 'discharge target alone', o: { 'grid/ActivePower': 500, 'ess0/Soc': 50, 'utility/StorageTargetW': 2000 }, want: 2000 },
    { name: 'charge target alone', o: { 'grid/ActivePower': 500, 'ess0/Soc': 50, 'utility/StorageTargetW': -4000 }, want: -4000 },
    {
      name: 'an export limit with room for the target',
      o: { 'grid/ActivePower': 500, 'ess0/Soc': 50, 'utility/StorageTargetW': 2000, 'utility/ExportLimitW': 6000 },
      want: 2000,
    },
    {
      // Exporting 1 kW of PV against a 1.5 kW limit: 475 W of room for the battery's discharge.
      name: 'the export limit wins over a discharge target',
      o: { 'grid/ActivePower': -1000, 'pv0/ActivePower': 3000, 'ess0/Soc': 50, 'utility/StorageTargetW': 3000, 'utility/ExportLimitW': 1500 },
      want: 475,
      says: /storage target discharge 3000 W cannot be met: discharge at most 475 W \(utility export limit 1500 W/,
    },
    {
      // Importing 1 kW against a 2 kW limit: the battery may charge 975 W.
      name: 'the import limit wins over a charge target',
      o: { 'grid/ActivePower': 1000, 'ess0/Soc': 50, 'utility/StorageTargetW': -4000, 'utility/ImportLimitW': 2000 },
      want: -975,
      says: /storage target charge 4000 W cannot be met: charge at most 975 W \(utility import limit 2000 W/,
    },
    {
      name: 'the generation limit caps a discharge target',
      o: { 'grid/ActivePower': 500, 'ess0/Soc': 50, 'utility/StorageTargetW': 3000, 'utility/GenerationLimitW': 1200 },
      want: 1200,
      says: /cannot be met: discharge at most 1200 W \(utility generation limit/,
    },
    {
      name: 'the battery rating caps the target (the envelope wins)',
      o: { 'grid/ActivePower': 500, 'ess0/Soc': 50, 'utility/StorageTargetW': 4500 },
      want: 3000,
      says: /cannot be met: discharge at most 3000 W \(the battery allows at most 3000 W discharge\)/,
    },
    { name: 'at the minimum SoC the envelope forbids discharging', o: { 'grid/ActivePower': 500, 'ess0/Soc': 10, 'utility/StorageTargetW': 2000 }, want: 0 },
    { name: 'at the maximum SoC the envelope forbids charging', o: { 'grid/ActivePower': 500, 'ess0/Soc': 95, 'utility/StorageTargetW': -2000 }, want: 0 },
    {
      name: 'a zero target holds the battery idle',
      o: { 'grid/ActivePower': 500, 'ess0/Soc': 50, 'ess0/ActivePower': 1500, 'utility/StorageTargetW': 0 },
      want: 0,
    },
  ];
  for (const row of rows) {
    const { r, v, text } = batteryAfter(site(row.o));
    assert.equal(r.status.state, 'ok', `${row.name}: ${text}`);
    assert.match(text, /storage target (discharge|charge) \d+ W/, `${row.name}: the target is named in force`);
    assert.equal(v, row.want, row.name);
    if (row.says) assert.match(text, row.says, row.name);
    else assert.doesNotMatch(text, /cannot be met/, `${row.name}: ${text}`);
    assert.ok(
      r.proposals.some((p) => p.kind === 'target' && p.target === 'ess0/SetActivePower' && p.criticality === 'supply-quality'),
      `${row.name}: a utility-class target`,
    );
  }
});

test('storage target: split over the phases of a per-phase battery; said, not carried out, without a battery', () => {
  const perPhase: UtilityLimitsConfig = {
    ...CFG,
    battery: { kind: 'battery-setpoint', component: 'ess0', perPhase: true, phases: 3, maxChargeW: 6000, maxDischargeW: 6000 },
  };
  const r = utilityLimits(site({ 'grid/ActivePower': 0, 'utility/StorageTargetW': 3000 }), perPhase, UTILITY_LIMITS_START, T0);
  const targets = r.proposals.filter((p) => p.kind === 'target');
  assert.equal(targets.length, 3);
  assert.deepEqual(
    targets.map((p) => p.value),
    [1000, 1000, 1000],
  );
  const none = utilityLimits(site({ 'grid/ActivePower': 0, 'utility/StorageTargetW': 3000 }), { ...CFG, battery: undefined }, UTILITY_LIMITS_START, T0);
  assert.equal(none.proposals.length, 0);
  assert.deepEqual(none.status, {
    state: 'ok',
    detail: 'storage target discharge 3000 W in force; grid 0 W; storage target discharge 3000 W not carried out: no battery to steer',
  });
});
