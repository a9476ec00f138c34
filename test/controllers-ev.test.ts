import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evSurplus, EV_SURPLUS_START, type EvSurplusConfig, type EvSurplusState } from '../src/controllers/ev-surplus.js';
import { splitCorrection } from '../src/controllers/ev-share.js';
import { loadSiteConfigText } from '../src/config/load-site-config.js';
import { planControl } from '../src/edge/control-plan.js';
import { utilityLimits, UTILITY_LIMITS_START, type UtilityLimitsConfig } from '../src/controllers/utility-limits.js';
import { evMinW, type EvCharger } from '../src/edge/capabilities.js';
import { evWriteReason, quantiseEvLimit } from '../src/edge/ev-dispatch.js';
import type { ChannelValue } from '../src/channels/value.js';
import type { Proposal } from '../src/edge/proposal.js';
import { resolve } from '../src/edge/resolver.js';
import { capabilityOfTarget, CAPABILITY_CLASS, DEFAULT_ACTION_AUTONOMY } from '../src/governance/actions.js';
import { snap, T0 } from './helpers/edge-snapshot.js';

// EV charging as a flexible load of the edge cycle (issue 12 item 5), on hand-made snapshots: the
// surplus controller (rising and falling surplus, the start and stop hysteresis, the site's import cap),
// the utility's import and load limits reducing EV charging before the battery and shedding, the
// resolver settling them by class, and the dispatch quantisation (whole amps, 6 A minimum, write on change).

const EV1: EvCharger = { kind: 'ev-charger', component: 'ev1', chargerId: 'cp1', phases: 1, voltageV: 230, minCurrentA: 6, maxW: 7360 };
const EV2: EvCharger = { ...EV1, component: 'ev2', chargerId: 'cp2', phases: 3, maxW: 11_040 };
const MIN1 = evMinW(EV1); // 1380 W
const MIN2 = evMinW(EV2); // 4140 W
const GRID = { kind: 'grid-meter', component: 'grid', perPhase: false } as const;
const CFG: EvSurplusConfig = { id: 'ev', grid: GRID, chargers: [EV1], marginW: 100, hysteresisW: 300, startDelayMs: 10_000, stopDelayMs: 20_000, settleMs: 0 };

const site = (o: Record<string, number | ChannelValue>, at = T0) => snap(at, { 'ev1/Transaction': 1, 'ev1/ActivePower': 0, ...o });
const targetOf = (ps: readonly Proposal[], t: string): number | undefined => {
  const p = ps.find((x) => x.kind === 'target' && x.target === t);
  return p?.kind === 'target' ? p.value : undefined;
};
const maxOf = (ps: readonly Proposal[], t: string): number =>
  Math.min(...ps.filter((p) => p.kind === 'bound' && p.target === t).map((p) => (p.kind === 'bound' ? (p.max ?? Infinity) : Infinity)));

test('governance: the EV limit is the capability ev-charging, optimisation class, L3 by default', () => {
  assert.equal(capabilityOfTarget('ev1/SetChargeLimit'), 'ev-charging');
  assert.equal(CAPABILITY_CLASS['ev-charging'], 'optimisation');
  assert.equal(DEFAULT_ACTION_AUTONOMY['ev-charging'], 'L3');
});

test('surplus: a sequence of rising and falling surplus, with the start delay, the hysteresis and the stop delay', () => {
  // Each step: seconds since T0, grid power (W, export negative), the car's measured power, the expected target.
  const steps: Array<{ s: number; grid: number; car: number; want: number; note: RegExp }> = [
    { s: 0, grid: -1000, car: 0, want: 0, note: /paused: surplus 900 W under the minimum 1380 W/ },
    { s: 1, grid: -2000, car: 0, want: 0, note: /starts in 10 s/ },
    { s: 6, grid: -2000, car: 0, want: 0, note: /starts in 5 s/ },
    { s: 11, grid: -2000, car: 0, want: 1900, note: /started: 1900 W/ },
    // Rising: the car already draws 1.9 kW and the site still exports 1.5 kW -> 3.3 kW.
    { s: 12, grid: -1500, car: 1900, want: 3300, note: /3300 W from the surplus/ },
    // Falling: a cloud; the site imports 1 kW with the car at 3.3 kW -> 2.2 kW.
    { s: 13, grid: 1000, car: 3300, want: 2200, note: /2200 W from the surplus/ },
    // Just under the minimum but within the hysteresis (1380 - 300): held at the minimum, no stop timer.
    { s: 14, grid: 1000, car: 2200, want: MIN1, note: /1380 W from the surplus/ },
    // Further under: held at the minimum while the stop delay runs.
    { s: 15, grid: 1500, car: MIN1, want: MIN1, note: /held at 1380 W, pauses in 20 s/ },
    { s: 30, grid: 1500, car: MIN1, want: MIN1, note: /pauses in 5 s/ },
    // The sun back for a moment resets the stop timer.
    { s: 31, grid: -500, car: MIN1, want: 1780, note: /1780 W from the surplus/ },
    { s: 32, grid: 1500, car: 1780, want: MIN1, note: /pauses in 20 s/ },
    { s: 52, grid: 1500, car: MIN1, want: 0, note: /paused: the surplus stayed under the minimum for 20 s/ },
    // Paused: a surplus just above the minimum has to last the start delay again.
    { s: 53, grid: -1600, car: 0, want: 0, note: /starts in 10 s/ },
  ];
  let st: EvSurplusState = EV_SURPLUS_START;
  for (const x of steps) {
    const r = evSurplus(site({ 'grid/ActivePower': x.grid, 'ev1/ActivePower': x.car }, T0 + x.s * 1000), CFG, st, T0 + x.s * 1000);
    assert.equal(targetOf(r.proposals, 'ev1/SetChargeLimit'), x.want, `t=${x.s} s: ${JSON.stringify(r.status)}`);
    if (r.status.state !== 'ok') assert.fail(`t=${x.s} s: ${JSON.stringify(r.status)}`);
    assert.match(r.status.detail, x.note, `t=${x.s} s`);
    assert.ok(r.proposals.every((p) => p.criticality === 'optimisation'));
    st = r.state;
  }
});

test('modes, several chargers, a car not plugged in, a charger not connected, the rating, the battery priority', () => {
  const cases: Array<{
    name: string;
    cfg: Partial<EvSurplusConfig>;
    values: Record<string, number | ChannelValue>;
    state?: EvSurplusState;
    want: Record<string, number | undefined>;
  }> = [
    { name: 'fast: the rating whatever the sun', cfg: { mode: 'fast' }, values: { 'grid/ActivePower': 3000 }, want: { ev1: 7360 } },
    { name: 'off: paused', cfg: { mode: 'off' }, values: { 'grid/ActivePower': -5000 }, want: { ev1: 0 } },
    { name: 'min-surplus: the minimum without sun', cfg: { mode: 'min-surplus' }, values: { 'grid/ActivePower': 500 }, want: { ev1: MIN1 } },
    {
      name: 'min-surplus: the surplus on top',
      cfg: { mode: 'min-surplus' },
      values: { 'grid/ActivePower': -3000, 'ev1/ActivePower': 1380 },
      want: { ev1: 4280 },
    },
    {
      name: 'surplus above the rating: the rating',
      cfg: {},
      values: { 'grid/ActivePower': -9000, 'ev1/ActivePower': 3000 },
      state: { chargers: { ev1: { on: true, sinceMs: null } } },
      want: { ev1: 7360 },
    },
    {
      name: 'no car plugged in: 0 ready for the next one in surplus mode',
      cfg: {},
      values: { 'grid/ActivePower': -5000, 'ev1/Transaction': 0 },
      want: { ev1: 0 },
    },
    {
      name: 'no car plugged in, fast: the rating for the next one',
      cfg: { mode: 'fast' },
      values: { 'ev1/Transaction': 0, 'grid/ActivePower': 0 },
      want: { ev1: 7360 },
    },
    {
      name: 'two chargers share the surplus in their order: the first to its rating, the second the rest',
      cfg: { chargers: [EV1, EV2] },
      values: { 'grid/ActivePower': -8000, 'ev1/ActivePower': 3000, 'ev2/Transaction': 1, 'ev2/ActivePower': 4200 },
      state: { chargers: { ev1: { on: true, sinceMs: null }, ev2: { on: true, sinceMs: null } } },
      want: { ev1: 7360, ev2: 7740 },
    },
    {
      name: 'a charger not connected (its channels ERROR) gets nothing; the other takes the surplus',
      cfg: { chargers: [EV2, EV1] },
      values: { 'grid/ActivePower': -4000, 'ev1/ActivePower': 2000, 'ev2/Transaction': { value: 0, ts: T0, quality: 'ERROR' } },
      state: { chargers: { ev1: { on: true, sinceMs: null } } },
      want: { ev1: 5900, ev2: undefined },
    },
    {
      name: 'battery first: only the export left over goes to the car',
      cfg: { battery: { kind: 'battery-setpoint', component: 'ess0', perPhase: false, phases: 3, maxChargeW: 5000, maxDischargeW: 5000 } },
      values: { 'grid/ActivePower': -2000, 'ess0/ActivePower': -3000, 'ev1/ActivePower': 1500 },
      state: { chargers: { ev1: { on: true, sinceMs: null } } },
      want: { ev1: 3400 },
    },
    {
      name: 'car first: the battery charging counts as surplus',
      cfg: { priority: 'ev', battery: { kind: 'battery-setpoint', component: 'ess0', perPhase: false, phases: 3, maxChargeW: 5000, maxDischargeW: 5000 } },
      values: { 'grid/ActivePower': -2000, 'ess0/ActivePower': -3000, 'ev1/ActivePower': 1500 },
      state: { chargers: { ev1: { on: true, sinceMs: null } } },
      want: { ev1: 6400 },
    },
  ];
  for (const c of cases) {
    const r = evSurplus(site(c.values), { ...CFG, ...c.cfg }, c.state ?? EV_SURPLUS_START, T0);
    for (const [comp, want] of Object.entries(c.want))
      assert.equal(targetOf(r.proposals, `${comp}/SetChargeLimit`), want, `${c.name}: ${JSON.stringify(r.status)}`);
  }
});

test('after a change the limit is held for settleMs while the car follows it: no double counting of a fresh car reading beside an older grid reading', () => {
  const cfg = { ...CFG, settleMs: 3000 };
  let st: EvSurplusState = { chargers: { ev1: { on: true, sinceMs: null } } };
  const steps: Array<{ s: number; grid: number; car: number; want: number }> = [
    { s: 0, grid: -4000, car: 1380, want: 5280 }, // a change: held for 3 s
    { s: 1, grid: -4000, car: 5280, want: 5280 }, // the car follows, the grid reading is older: would be 9 kW
    { s: 2, grid: -100, car: 5280, want: 5280 },
    { s: 3, grid: -600, car: 5280, want: 5780 }, // settled: follows the surplus again
    { s: 4, grid: -200, car: 5780, want: 5780 }, // under a whole amp of change: no new change
    { s: 5, grid: -100, car: 5780, want: 5780 },
  ];
  for (const x of steps) {
    const r = evSurplus(site({ 'grid/ActivePower': x.grid, 'ev1/ActivePower': x.car }, T0 + x.s * 1000), cfg, st, T0 + x.s * 1000);
    assert.equal(targetOf(r.proposals, 'ev1/SetChargeLimit'), x.want, `t=${x.s} s: ${JSON.stringify(r.status)}`);
    st = r.state;
  }
  // A pause is never held back.
  const r = evSurplus(site({ 'grid/ActivePower': 6000, 'ev1/ActivePower': 5780 }, T0 + 5500), { ...cfg, stopDelayMs: 0 }, st, T0 + 5500);
  assert.equal(targetOf(r.proposals, 'ev1/SetChargeLimit'), 0);
});

test('without a usable grid meter it fails and proposes nothing (the envelope pauses the car)', () => {
  const r = evSurplus(site({ 'grid/ActivePower': { value: -3000, ts: T0 - 10_000, quality: 'STALE' } }), CFG, EV_SURPLUS_START, T0);
  assert.equal(r.status.state, 'failed');
  assert.equal(r.proposals.length, 0);
});

test("the site's import cap: a business bound on the car's limit that its surplus target cannot pass", () => {
  const cases: Array<{ name: string; grid: number; car: number; want: number }> = [
    { name: 'room under the cap', grid: 1000, car: 2000, want: 5000 },
    { name: 'over the cap: the car gives the excess', grid: 5000, car: 3000, want: 2000 },
    { name: 'no room left: held where it is', grid: 4000, car: 1380, want: 1380 },
    { name: 'the room left is under the minimum: paused', grid: 4000, car: 1000, want: 0 },
    { name: 'further over: paused', grid: 4500, car: 1380, want: 0 },
  ];
  for (const c of cases) {
    const r = evSurplus(site({ 'grid/ActivePower': c.grid, 'ev1/ActivePower': c.car }), { ...CFG, mode: 'fast', importLimitW: 4000 }, EV_SURPLUS_START, T0);
    assert.equal(maxOf(r.proposals, 'ev1/SetChargeLimit'), c.want, c.name);
    assert.ok(
      r.proposals.some((p) => p.kind === 'bound' && p.criticality === 'business'),
      c.name,
    );
    const v = resolve(r.proposals, { 'ev1/SetChargeLimit': { neutral: EV1.maxW } }).get('ev1/SetChargeLimit');
    assert.equal(v?.value, Math.min(7360, c.want), `${c.name}: the fast target is held under the cap`);
  }
});

test('splitting a correction: the cars give first, the battery covers the rest; under the limit the room is halved', () => {
  const cars = [
    { w: 3000, minW: MIN1, maxW: 7360 },
    { w: 6000, minW: MIN2, maxW: 11_040 },
  ];
  const cases: Array<{ name: string; excess: number; battery: boolean; ev: number[]; batteryW: number }> = [
    { name: '1.74 kW over: toward their minimums, in proportion to what each can give', excess: 1740, battery: true, ev: [2190, 5070], batteryW: 0 },
    { name: '6 kW over: both at their minimum is not enough, the last pauses', excess: 6000, battery: true, ev: [1380, 0], batteryW: 0 },
    { name: '12 kW over: both paused, the battery covers 3 kW', excess: 12_000, battery: true, ev: [0, 0], batteryW: 3000 },
    { name: '2 kW of room with a battery: 1 kW shared by the cars, 1 kW for the battery', excess: -2000, battery: true, ev: [3500, 6500], batteryW: -1000 },
    { name: '2 kW of room without a battery: all to the cars', excess: -2000, battery: false, ev: [4000, 7000], batteryW: 0 },
  ];
  for (const c of cases) {
    const r = splitCorrection(c.excess, cars, c.battery);
    assert.deepEqual(r.evMaxW, c.ev, c.name);
    assert.equal(r.batteryW, c.batteryW, c.name);
  }
  // A paused car resumes only with its minimum plus the hysteresis.
  assert.deepEqual(splitCorrection(-1500, [{ w: 0, minW: MIN1, maxW: 7360 }], false).evMaxW, [0]);
  assert.deepEqual(splitCorrection(-1700, [{ w: 0, minW: MIN1, maxW: 7360 }], false).evMaxW, [1700]);
});

const UCFG: UtilityLimitsConfig = {
  id: 'utility',
  grid: GRID,
  battery: { kind: 'battery-setpoint', component: 'ess0', perPhase: false, phases: 3, maxChargeW: 5000, maxDischargeW: 3000 },
  ev: [EV1],
  shed: [{ kind: 'relay', component: 'relay2', role: 'shed' }],
  marginW: 0,
  shedAfterMs: 5000,
};
const usite = (o: Record<string, number>, at = T0) => snap(at, { 'utility/Evaluated': 1, 'ess0/ActivePower': 0, 'ev1/Transaction': 1, ...o });
const minOf = (ps: readonly Proposal[], t: string): number =>
  Math.max(...ps.filter((p) => p.kind === 'bound' && p.target === t).map((p) => (p.kind === 'bound' ? (p.min ?? -Infinity) : -Infinity)));

test('utility import limit: EV charging is reduced before the battery discharges and before any load is shed', () => {
  const cases: Array<{ name: string; grid: number; car: number; ev: number; batteryMin: number; state: string }> = [
    { name: '1 kW over with the car at 5 kW: the car gives it all', grid: 5000, car: 5000, ev: 4000, batteryMin: 0, state: 'ok' },
    { name: '4 kW over with the car at 5 kW: the car pauses under its minimum', grid: 8000, car: 5000, ev: 0, batteryMin: 0, state: 'ok' },
    { name: '6 kW over with the car at 5 kW: paused, the battery discharges 1 kW', grid: 10_000, car: 5000, ev: 0, batteryMin: 1000, state: 'ok' },
    { name: '1 kW of room: half to the car, half to the battery', grid: 3000, car: 2000, ev: 2500, batteryMin: -500, state: 'ok' },
  ];
  for (const c of cases) {
    const r = utilityLimits(usite({ 'grid/ActivePower': c.grid, 'ev1/ActivePower': c.car, 'utility/ImportLimitW': 4000 }), UCFG, UTILITY_LIMITS_START, T0);
    assert.equal(r.status.state, c.state, `${c.name}: ${JSON.stringify(r.status)}`);
    assert.equal(maxOf(r.proposals, 'ev1/SetChargeLimit'), c.ev, c.name);
    assert.equal(minOf(r.proposals, 'ess0/SetActivePower'), c.batteryMin, c.name);
    assert.ok(
      r.proposals.every((p) => p.criticality === 'supply-quality'),
      c.name,
    );
    assert.ok(!r.proposals.some((p) => p.target === 'relay2/SetClosed'), `${c.name}: nothing shed`);
  }
  // Only when the car is paused and the battery is at its limit does shedding start (after shedAfterMs).
  let st = UTILITY_LIMITS_START;
  for (const s of [0, 5]) {
    const r = utilityLimits(
      usite({ 'grid/ActivePower': 13_000, 'ev1/ActivePower': 5000, 'utility/ImportLimitW': 4000 }, T0 + s * 1000),
      UCFG,
      st,
      T0 + s * 1000,
    );
    st = r.state;
    assert.equal(maxOf(r.proposals, 'ev1/SetChargeLimit'), 0);
    assert.equal(minOf(r.proposals, 'ess0/SetActivePower'), 3000);
  }
  assert.deepEqual(st.shed, ['relay2'], 'shed once the car and the battery are not enough');
});

test('utility load limit: EV plus battery charging stays under it, the car gives first; the resolver puts it above the surplus', () => {
  const cases: Array<{ name: string; bat: number; car: number; ev: number; batteryMin: number }> = [
    { name: 'car 5 kW + battery 2 kW under a 4 kW limit: the car to 2 kW', bat: -2000, car: 5000, ev: 2000, batteryMin: -2000 },
    { name: 'car 2 kW + battery 5 kW under a 4 kW limit: the car pauses, the battery to 4 kW', bat: -5000, car: 2000, ev: 0, batteryMin: -4000 },
    { name: 'car 1 kW + battery 1 kW under a 4 kW limit: 1 kW more each', bat: -1000, car: 1500, ev: 2250, batteryMin: -1750 },
  ];
  for (const c of cases) {
    const r = utilityLimits(
      usite({ 'grid/ActivePower': 0, 'ess0/ActivePower': c.bat, 'ev1/ActivePower': c.car, 'utility/LoadLimitW': 4000 }),
      UCFG,
      UTILITY_LIMITS_START,
      T0,
    );
    assert.equal(maxOf(r.proposals, 'ev1/SetChargeLimit'), c.ev, `${c.name}: ${JSON.stringify(r.status)}`);
    assert.equal(minOf(r.proposals, 'ess0/SetActivePower'), c.batteryMin, c.name);
  }
  // The surplus controller wants 7.3 kW from a big export; the utility's load limit (supply quality) wins.
  const s = usite({ 'grid/ActivePower': -9000, 'ev1/ActivePower': 5000, 'utility/LoadLimitW': 3000 });
  const u = utilityLimits(s, UCFG, UTILITY_LIMITS_START, T0);
  const e = evSurplus(s, CFG, { chargers: { ev1: { on: true, sinceMs: null } } }, T0);
  assert.equal(targetOf(e.proposals, 'ev1/SetChargeLimit'), 7360);
  const res = resolve([...e.proposals, ...u.proposals], { 'ev1/SetChargeLimit': { neutral: 7360 } }).get('ev1/SetChargeLimit') ?? assert.fail('not resolved');
  assert.equal(res.value, 3000, 'supply quality beats optimisation');
  assert.equal(res.chosenBy?.source, 'ev', 'the surplus target, cut to the limit');
});

test('dispatch: whole amps, 0 under 6 A, the rating; a profile is written only on a meaningful change', () => {
  const q: Array<[number, number]> = [
    [0, 0],
    [1379, 0],
    [1380, 1380],
    [2000, 1840],
    [9000, 7360],
    [Number.NaN, 0],
  ];
  for (const [w, want] of q) assert.equal(quantiseEvLimit(w, EV1).watts, want, `${w} W`);
  assert.equal(quantiseEvLimit(4139, EV2).watts, 0, '3 phases: 6 A x 3 x 230 V');
  assert.equal(quantiseEvLimit(5000, EV2).amps, 7);
  const cases: Array<[Parameters<typeof evWriteReason>[0], Parameters<typeof evWriteReason>[1], string | null]> = [
    [undefined, { amps: 8, transactionId: 5 }, 'first limit since the charger connected'],
    [{ amps: 8, transactionId: 5 }, { amps: 8, transactionId: 5 }, null],
    [{ amps: 8, transactionId: 5 }, { amps: 9, transactionId: 5 }, '8 A -> 9 A'],
    [{ amps: 8, transactionId: 5 }, { amps: 0, transactionId: 5 }, 'pause'],
    [{ amps: 0, transactionId: 5 }, { amps: 6, transactionId: 5 }, 'resume'],
    [{ amps: 8, transactionId: null }, { amps: 8, transactionId: 6 }, 'transaction 6 started'],
    [{ amps: 8, transactionId: 6 }, { amps: 8, transactionId: null }, 'the transaction ended'],
  ];
  for (const [last, next, want] of cases) assert.equal(evWriteReason(last, next), want, JSON.stringify([last, next]));
  assert.equal(evWriteReason({ amps: 8, transactionId: 5 }, { amps: 9, transactionId: 5 }, 2), null, 'minStepA 2: 1 A is no reason');
});

test('the site file: an EV charger asset needs its charger under an enabled ocpp section, named by file and line', () => {
  const site = (ocpp: string) => `site: { id: ev, name: EV, timezone: Africa/Kampala }
control:
  assets:
    - { type: grid-meter, component: grid }
    - { type: ev-charger, component: ev1, chargerId: cp1, phases: 1, maxW: 7360 }
  controllers:
    - { kind: ev-surplus, id: ev, startDelayMs: 30000 }
${ocpp}`;
  assert.throws(() => loadSiteConfigText(site(''), '/etc/mgos/site.yaml'), /assets\.1\.chargerId.*enable the ocpp section and list it under ocpp\.chargers/s);
  assert.throws(
    () => loadSiteConfigText(site('ocpp: { enabled: true, chargers: [{ id: cp2 }] }'), '/etc/mgos/site.yaml'),
    /no charger "cp1" under ocpp\.chargers; allowed: cp2/,
  );
  const { config } = loadSiteConfigText(site('ocpp: { enabled: true, chargers: [{ id: cp1 }] }'), '/etc/mgos/site.yaml');
  const control = config.control ?? assert.fail('no control section');
  assert.equal(control.controllers[0]?.kind, 'ev-surplus');
  const plan = planControl(control, { timeZone: 'Africa/Kampala' });
  assert.ok(plan.ok);
  assert.deepEqual(plan.plan.controllers[0]?.assets, ['ev1']);
  // A rating under the minimum charging power cannot be steered: refused when the cycle is planned.
  const low = planControl(
    { ...control, assets: control.assets.map((a) => (a.type === 'ev-charger' ? { ...a, maxW: 1000 } : a)) },
    { timeZone: 'Africa/Kampala' },
  );
  assert.ok(!low.ok && low.problems.some((p) => /assets\.1: maxW 1000 is below the minimum charging power 1380 W/.test(p)), JSON.stringify(low));
});
