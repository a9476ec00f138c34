import { test } from 'node:test';
import assert from 'node:assert/strict';
import { utilityLimits, UTILITY_LIMITS_START, type UtilityLimitsConfig } from '../src/controllers/utility-limits.js';
import { resolve } from '../src/edge/resolver.js';
import { envelope, type SafetyConfig } from '../src/edge/safety-envelope.js';
import type { ControllerStatus, Proposal } from '../src/edge/proposal.js';
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

/** What a status says, whichever its state. */
const said = (st: ControllerStatus): string => ('detail' in st ? st.detail : st.reason);
const minOf = (ps: readonly Proposal[], target: string): number =>
  Math.max(...ps.filter((p) => p.kind === 'bound' && p.target === target).map((p) => (p.kind === 'bound' ? (p.min ?? -Infinity) : -Infinity)));
const shedNow = (ps: readonly Proposal[]): string[] =>
  ps.filter((p) => p.kind === 'bound' && p.target.endsWith('/SetClosed') && p.max === 0).map((p) => p.target.slice(0, p.target.indexOf('/')));

test("load limit: the site's consumption (grid + PV + battery discharge) is bounded; battery charging gives before shedding, discharge does not count as giving", () => {
  const cases: Array<{ name: string; grid: number; pv: number; bat: number; limit: number; batteryMin: number; load: number; note: RegExp | null }> = [
    // 1 kW of loads + 2 kW of charging under 4 kW: 975 W of room (25 W margin) for more charging.
    { name: 'under the limit: the battery may charge into the room', grid: 3000, pv: 0, bat: -2000, limit: 4000, batteryMin: -2975, load: 3000, note: null },
    // 4 kW of loads + 3 kW of charging under 5 kW: charging down to 975 W covers it.
    { name: 'charging cut covers it', grid: 5000, pv: 2000, bat: -3000, limit: 5000, batteryMin: -975, load: 7000, note: /battery charging reduced by 2025 W/ },
    // 6 kW of loads + 1 kW of charging under 5 kW: charging stops, 1 kW left for shedding.
    {
      name: 'charging stops, the rest waits for shedding',
      grid: 6000,
      pv: 1000,
      bat: -1000,
      limit: 5000,
      batteryMin: 0,
      load: 7000,
      note: /1000 W of site load above the utility's load limit after EV and battery charging; shedding after 5 s/,
    },
    // 7.5 kW of loads, the battery discharging 2 kW: the site still consumes 7.5 kW; discharging more would not help.
    {
      name: 'a discharging battery lowers the import, not the load',
      grid: 5500,
      pv: 0,
      bat: 2000,
      limit: 5000,
      batteryMin: 0,
      load: 7500,
      note: /2500 W of site load above/,
    },
  ];
  for (const c of cases) {
    const r = utilityLimits(
      site({ 'grid/ActivePower': c.grid, 'pv0/ActivePower': c.pv, 'ess0/ActivePower': c.bat, 'utility/LoadLimitW': c.limit }),
      CFG,
      UTILITY_LIMITS_START,
      T0,
    );
    assert.equal(r.status.state, 'ok', `${c.name}: ${JSON.stringify(r.status)}`);
    const text = said(r.status);
    assert.match(text, new RegExp(`site load ${c.load} W`), c.name);
    assert.equal(minOf(r.proposals, 'ess0/SetActivePower'), c.batteryMin, c.name);
    if (c.note) assert.match(text, c.note, c.name);
    assert.deepEqual(shedNow(r.proposals), [], `${c.name}: nothing shed in the first cycle`);
    assert.ok(
      r.proposals.every((p) => p.criticality === 'supply-quality'),
      c.name,
    );
  }
});

test('load limit with a car: EV charging gives first, then battery charging', () => {
  const ev = { kind: 'ev-charger', component: 'ev1', chargerId: 'cp1', phases: 1, voltageV: 230, minCurrentA: 6, maxW: 7360 } as const;
  // 1 kW of loads + a car at 5 kW + 1 kW of charging = 7 kW under 6 kW: the car gives 1025 W, the battery nothing.
  const r = utilityLimits(
    site({ 'grid/ActivePower': 7000, 'ess0/ActivePower': -1000, 'ev1/Transaction': 1, 'ev1/ActivePower': 5000, 'utility/LoadLimitW': 6000 }),
    { ...CFG, ev: [ev] },
    UTILITY_LIMITS_START,
    T0,
  );
  assert.equal(maxOf(r.proposals, 'ev1/SetChargeLimit'), 3975);
  assert.equal(minOf(r.proposals, 'ess0/SetActivePower'), -1000, 'battery charging untouched');
  assert.equal(r.status.state, 'ok');
  // A paused car under a 3 kW limit with 170 W of other load and the battery idle: the whole room
  // (2805 W) is the car's, so it resumes; halved with an idle battery it would stay paused (1403 W is
  // under its 1380 W minimum plus the 300 W hysteresis). Found closed loop (ev-charging-system).
  const paused = utilityLimits(
    site({ 'grid/ActivePower': 170, 'ev1/Transaction': 1, 'ev1/ActivePower': 0, 'utility/LoadLimitW': 3000 }),
    { ...CFG, ev: [ev] },
    UTILITY_LIMITS_START,
    T0,
  );
  assert.equal(maxOf(paused.proposals, 'ev1/SetChargeLimit'), 2805);
  assert.equal(minOf(paused.proposals, 'ess0/SetActivePower'), 0, 'the battery does not take the room the car takes');
  // Charging, the battery shares the room: half to the car, the rest to the battery.
  const sharing = utilityLimits(
    site({ 'grid/ActivePower': 1170, 'ess0/ActivePower': -1000, 'ev1/Transaction': 1, 'ev1/ActivePower': 0, 'utility/LoadLimitW': 5000 }),
    { ...CFG, ev: [ev] },
    UTILITY_LIMITS_START,
    T0,
  );
  // Site load 1170 W (170 W + 1 kW charging): 3805 W of room, 1902.5 W to the car, the battery may charge 1 kW + 1902.5 W.
  assert.equal(maxOf(sharing.proposals, 'ev1/SetChargeLimit'), 1902.5);
  assert.equal(minOf(sharing.proposals, 'ess0/SetActivePower'), -2902.5);
});

test('load limit: non-critical relays shed one per shedAfterMs, never a critical one, "nothing left to shed" said, restored last first with hysteresis', () => {
  // No PV output, battery idle: the site load is the grid import.
  const at = (loadW: number, s: number, o: Record<string, number> = {}) => site({ 'grid/ActivePower': loadW, 'utility/LoadLimitW': 3000, ...o }, T0 + s * 1000);
  const step = (st: typeof UTILITY_LIMITS_START, loadW: number, s: number, o: Record<string, number> = {}) =>
    utilityLimits(at(loadW, s, o), CFG, st, T0 + s * 1000);
  let r = step(UTILITY_LIMITS_START, 4000, 0);
  assert.deepEqual(shedNow(r.proposals), [], 'not at once');
  r = step(r.state, 4000, 4);
  assert.deepEqual(shedNow(r.proposals), [], 'not before shedAfterMs');
  r = step(r.state, 4000, 5);
  assert.deepEqual(shedNow(r.proposals), ['relay2']);
  assert.ok(
    r.proposals.some((p) => p.target === 'relay2/SetClosed' && /utility load limit/.test(p.why)),
    'the relay proposal says which limit',
  );
  r = step(r.state, 3500, 10);
  assert.deepEqual(shedNow(r.proposals), ['relay2', 'relay4'], 'the next non-critical one; relay3 is critical');
  r = step(r.state, 3200, 15);
  assert.equal(r.status.state, 'failed');
  assert.match(said(r.status), /200 W of site load above the utility's load limit after EV and battery charging, nothing left to shed/);
  assert.ok(!r.proposals.some((p) => p.target === 'relay3/SetClosed'), 'the critical relay is never proposed');
  // 2.6 kW is under the limit but not 500 W under: nothing comes back.
  r = step(r.state, 2600, 20);
  r = step(r.state, 2600, 40);
  assert.deepEqual(shedNow(r.proposals), ['relay2', 'relay4'], 'held within the restore margin');
  r = step(r.state, 2000, 41);
  r = step(r.state, 2000, 50);
  assert.deepEqual(shedNow(r.proposals), ['relay2', 'relay4'], 'not before restoreAfterMs');
  r = step(r.state, 2000, 51);
  assert.deepEqual(shedNow(r.proposals), ['relay2'], 'the last one shed comes back first');
  const closes = (ps: readonly Proposal[]): string[] =>
    ps.filter((p) => p.kind === 'target' && p.target.endsWith('/SetClosed') && p.value === 1).map((p) => p.target.slice(0, p.target.indexOf('/')));
  assert.deepEqual(closes(r.proposals), ['relay4'], 'a restored relay is commanded closed (nothing else would close it)');
  assert.deepEqual(closes(step(r.state, 2000, 60).proposals), ['relay4'], 'the close is repeated for a while');
  assert.deepEqual(closes(step(r.state, 2600, 62).proposals), [], 'then left alone');
  // With an import limit in force too, both must be well under: the import (2 kW) is not 500 W under 2.2 kW.
  let both = step(r.state, 2000, 52, { 'utility/ImportLimitW': 2200 });
  both = step(both.state, 2000, 80, { 'utility/ImportLimitW': 2200 });
  assert.deepEqual(shedNow(both.proposals), ['relay2'], 'held while the import is near its limit');
  // The limit lifted: the shed relay still comes back by the same step, not at once.
  let lifted = utilityLimits(
    snap(T0 + 90_000, { 'utility/Evaluated': 1, 'grid/ActivePower': 2000, 'pv0/ActivePower': 0, 'ess0/ActivePower': 0 }),
    CFG,
    both.state,
    T0 + 90_000,
  );
  assert.deepEqual(shedNow(lifted.proposals), ['relay2']);
  assert.match(said(lifted.status), /no utility limit in force/);
  lifted = utilityLimits(
    snap(T0 + 100_000, { 'utility/Evaluated': 1, 'grid/ActivePower': 2000, 'pv0/ActivePower': 0, 'ess0/ActivePower': 0 }),
    CFG,
    lifted.state,
    T0 + 100_000,
  );
  assert.deepEqual(shedNow(lifted.proposals), [], 'restored after restoreAfterMs');
  assert.deepEqual(lifted.state.shed, []);
});

test('load limit: without a fresh PV reading the site load is unknown: only charging is bounded, nothing is shed, and the status says so', () => {
  let st = UTILITY_LIMITS_START;
  let r = utilityLimits(snap(T0, { 'utility/Evaluated': 1, 'utility/LoadLimitW': 3000, 'grid/ActivePower': 6000, 'ess0/ActivePower': -4000 }), CFG, st, T0);
  for (const s of [5, 10]) {
    st = r.state;
    r = utilityLimits(
      snap(T0 + s * 1000, { 'utility/Evaluated': 1, 'utility/LoadLimitW': 3000, 'grid/ActivePower': 6000, 'ess0/ActivePower': -4000 }),
      CFG,
      st,
      T0 + s * 1000,
    );
  }
  assert.match(said(r.status), /site load not measured \(pv0 power missing\): only EV and battery charging are bounded/);
  assert.equal(minOf(r.proposals, 'ess0/SetActivePower'), -3000, 'charging at most the limit');
  assert.deepEqual(shedNow(r.proposals), []);
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
