import { test } from 'node:test';
import assert from 'node:assert/strict';
import { command, type Battery, type GridMeter, type PvInverter } from '../src/edge/capabilities.js';
import type { Proposal } from '../src/edge/proposal.js';
import { resolve, resolveVariable } from '../src/edge/resolver.js';
import { envelope, type SafetyConfig } from '../src/edge/safety-envelope.js';
import { frequencyDroop, DROOP_START, type FrequencyDroopConfig } from '../src/controllers/frequency-droop.js';
import { selfConsumption, SELF_CONSUMPTION_START, type SelfConsumptionState } from '../src/controllers/self-consumption.js';
import { peakShaving, PEAK_SHAVING_START } from '../src/controllers/peak-shaving.js';
import { snap, T0 } from './helpers/edge-snapshot.js';

// Frequency droop is ADDED to what the business and optimisation controllers decided (issue 10 item 5;
// docs/ems-modes.md "Frequency droop adds to the other modes": f1-f4, over- and under-frequency response), inside the safety envelope.
// Controllers, envelope and resolver are the pure functions the cycle runs, in the same order.

const grid: GridMeter = { kind: 'grid-meter', component: 'grid', perPhase: false };
const bat: Battery = { kind: 'battery-setpoint', component: 'ess0', perPhase: false, phases: 3, maxChargeW: 5_000, maxDischargeW: 5_000 };
const pv: PvInverter = { kind: 'pv-limit', component: 'pv0', perPhase: false, phases: 3, ratedW: 9_000 };
const SET = command.batteryPower(bat);
const DROOP: FrequencyDroopConfig = { id: 'droop', battery: bat, maxResponseW: 2_000, f1: 49.5, f2: 49.9, f3: 50.1, f4: 50.5 };
const safety = (o: { socMinPct?: number; socMaxPct?: number; maxDischargeW?: number } = {}): SafetyConfig => ({
  grid,
  batteries: [
    {
      battery: { ...bat, maxDischargeW: o.maxDischargeW ?? bat.maxDischargeW },
      socMinPct: o.socMinPct ?? 10,
      socMaxPct: o.socMaxPct ?? 95,
      rampWPerS: 1_000_000,
    },
  ],
  pv: [{ pv }],
  generators: [],
  exportLimitW: null,
  maxAgeMs: 3_000,
});

/** One cycle of the pure chain: controllers -> envelope -> resolver; returns the battery command. */
function cycle(values: Record<string, number>, others: readonly Proposal[], cfg = safety()): { w: number; offset: number; all: Proposal[] } {
  const s = snap(T0, values);
  const droop = frequencyDroop(s, DROOP, DROOP_START, T0);
  const env = envelope(s, cfg, {}, 1_000, T0);
  const all = [...env.bounds, ...others, ...droop.proposals];
  const r = resolve(all, { [SET]: { neutral: 0 }, [command.pvLimit(pv)]: { neutral: pv.ratedW } }).get(SET);
  assert.ok(r);
  return { w: r.value, offset: r.offset, all };
}

// f1 = 49.5, f2 = 49.9, f3 = 50.1, f4 = 50.5 Hz, 2 kW at full deviation.
const FREQS: Array<[string, number, number]> = [
  ['below f1', 49.4, 2_000],
  ['at f1', 49.5, 2_000],
  ['between f1 and f2', 49.7, 1_000],
  ['at f2 (edge of the deadband)', 49.9, 0],
  ['inside the deadband', 50.0, 0],
  ['at f3 (edge of the deadband)', 50.1, 0],
  ['between f3 and f4', 50.3, -1_000],
  ['at f4', 50.5, -2_000],
  ['above f4', 50.6, -2_000],
];

test('droop on top of self-consumption: the response is added to the self-consumption setpoint at each of f1..f4 and not inside the deadband', () => {
  // The site imports 1 kW: self-consumption discharges 1 kW; the droop adds its response to that.
  for (const [name, f, response] of FREQS) {
    const values = { 'grid/ActivePower': 1_000, 'grid/Frequency': f, 'ess0/ActivePower': 0, 'ess0/Soc': 50 };
    const sc = selfConsumption(snap(T0, values), { id: 'self', grid, battery: bat }, SELF_CONSUMPTION_START, T0);
    const r = cycle(values, sc.proposals);
    assert.ok(Math.abs(r.w - (1_000 + response)) < 1e-6, `${name} (${f} Hz): battery ${r.w} W, expected 1000 + ${response}`);
    assert.ok(Math.abs(r.offset - response) < 1e-6, `${name}: offset recorded ${r.offset}`);
  }
});

test('droop on top of peak shaving: added to the discharge the import limit needs; over-frequency (supply quality) may push the import above the business limit', () => {
  // 4 kW import, 2.5 kW limit: peak shaving asks at least 1.5 kW discharge (business bound), nobody sets a target.
  for (const [name, f, response] of FREQS) {
    const values = { 'grid/ActivePower': 4_000, 'grid/Frequency': f, 'ess0/ActivePower': 0, 'ess0/Soc': 50 };
    const ps = peakShaving(snap(T0, values), { id: 'peak', grid, battery: bat, importLimitW: 2_500 }, PEAK_SHAVING_START, T0);
    const r = cycle(values, ps.proposals);
    assert.ok(Math.abs(r.w - (1_500 + response)) < 1e-6, `${name} (${f} Hz): battery ${r.w} W, expected 1500 + ${response}`);
  }
});

test('the safety envelope still wins: SoC limits and the power rating cut the sum, and the cut is recorded', () => {
  const cases: Array<{ name: string; f: number; soc: number; grid: number; cfg: SafetyConfig; want: number; boundBy: string | null }> = [
    // SoC at the minimum: no discharge at all, under-frequency or not.
    { name: 'under-frequency at the SoC minimum', f: 49.4, soc: 10, grid: 1_000, cfg: safety(), want: 0, boundBy: 'safety-envelope' },
    // SoC at the maximum: over-frequency may not charge; self-consumption's 1 kW discharge minus 2 kW stops at 0.
    { name: 'over-frequency at the SoC maximum', f: 50.6, soc: 95, grid: 1_000, cfg: safety(), want: 0, boundBy: 'safety-envelope' },
    // A 2.5 kW inverter: 1 kW + 2 kW is cut to 2.5 kW.
    {
      name: 'under-frequency beyond the rating',
      f: 49.4,
      soc: 50,
      grid: 1_000,
      cfg: safety({ maxDischargeW: 2_500 }),
      want: 2_500,
      boundBy: 'safety-envelope',
    },
    // Inside the limits nothing is cut.
    { name: 'within the limits', f: 49.7, soc: 50, grid: 1_000, cfg: safety(), want: 2_000, boundBy: null },
  ];
  for (const c of cases) {
    const values = { 'grid/ActivePower': c.grid, 'grid/Frequency': c.f, 'ess0/ActivePower': 0, 'ess0/Soc': c.soc };
    const sc = selfConsumption(snap(T0, values), { id: 'self', grid, battery: bat }, SELF_CONSUMPTION_START, T0);
    const r = cycle(values, sc.proposals, c.cfg);
    assert.ok(Math.abs(r.w - c.want) < 1e-6, `${c.name}: ${r.w} W, expected ${c.want}`);
    const res = resolve(r.all).get(SET);
    assert.equal(res?.boundBy[0]?.source ?? null, c.boundBy, `${c.name}: bound by ${JSON.stringify(res?.boundBy)}`);
  }
});

test('over-frequency beyond what the battery can charge is taken from PV, as a bound on its limit', () => {
  // The battery already charges 4 kW of its 5 kW; 2 kW of response: 1 kW more charge, 1 kW less PV.
  const values = { 'grid/ActivePower': 0, 'grid/Frequency': 50.6, 'ess0/ActivePower': -4_000, 'ess0/Soc': 50, 'pv0/ActivePower': 6_000 };
  const r = frequencyDroop(snap(T0, values), { ...DROOP, pv }, DROOP_START, T0);
  const lim = r.proposals.find((p) => p.target === command.pvLimit(pv));
  assert.equal(lim?.kind, 'bound');
  assert.equal((lim as { max: number }).max, 5_000);
  assert.match(r.status.state === 'ok' ? r.status.detail : '', /PV curtailed by 1000 W \(battery headroom 1000 W\)/);
  assert.deepEqual(r.state, { curtailW: 1_000 });
  // Next cycle PV sits at its 5 kW limit and self-consumption charges 1 kW less for it (3 kW); the cycle applied
  // -1 kW of the offset (the battery's 5 kW cut the rest). The headroom counts from 3 kW, not from the measured
  // 4 kW: the curtailment holds at 1 kW instead of ratcheting PV down by 1 kW every cycle.
  const held = { ...values, 'ess0/ActivePower': -4_000, 'pv0/ActivePower': 5_000, [command.appliedOffset(SET)]: -1_000 };
  const r2 = frequencyDroop(snap(T0 + 1_000, held), { ...DROOP, pv }, r.state, T0 + 1_000);
  assert.equal((r2.proposals.find((p) => p.target === command.pvLimit(pv)) as { max: number } | undefined)?.max, 5_000);
  assert.deepEqual(r2.state, { curtailW: 1_000 });
  // The battery takes the whole response again (self-consumption charges only 2 kW): the curtailment goes.
  const freed = { ...held, [command.appliedOffset(SET)]: -2_000 };
  const r3 = frequencyDroop(snap(T0 + 2_000, freed), { ...DROOP, pv }, r2.state, T0 + 2_000);
  assert.equal(
    r3.proposals.some((p) => p.target === command.pvLimit(pv)),
    false,
  );
  assert.deepEqual(r3.state, { curtailW: 0 });
  // Under-frequency never curtails PV.
  const u = frequencyDroop(snap(T0, { ...values, 'grid/Frequency': 49.4 }), { ...DROOP, pv }, DROOP_START, T0);
  assert.equal(
    u.proposals.some((p) => p.target === command.pvLimit(pv)),
    false,
  );
});

test('resolver: offsets add class by class; one below a pinning target is overruled; a business bound does not cut a supply-quality offset', () => {
  const base = { target: 'x', source: 'a', why: 'w' } as const;
  const cases: Array<{ name: string; ps: Proposal[]; want: number; overruled: number }> = [
    { name: 'an offset alone moves the neutral value', ps: [{ ...base, kind: 'offset', value: 300, criticality: 'supply-quality' }], want: 300, overruled: 0 },
    {
      name: 'an optimisation offset under a business target is overruled',
      ps: [
        { ...base, kind: 'target', value: 1_000, criticality: 'business', source: 'sched' },
        { ...base, kind: 'offset', value: 300, criticality: 'optimisation', source: 'opt' },
      ],
      want: 1_000,
      overruled: 1,
    },
    {
      name: 'a supply-quality offset on a business target is added',
      ps: [
        { ...base, kind: 'target', value: 1_000, criticality: 'business', source: 'sched' },
        { ...base, kind: 'offset', value: -1_500, criticality: 'supply-quality', source: 'droop' },
      ],
      want: -500,
      overruled: 0,
    },
    {
      name: 'a business bound does not stop a supply-quality offset, a supply-quality bound does',
      ps: [
        { ...base, kind: 'bound', min: 800, criticality: 'business', source: 'peak' },
        { ...base, kind: 'bound', min: -200, criticality: 'supply-quality', source: 'zero' },
        { ...base, kind: 'offset', value: -2_000, criticality: 'supply-quality', source: 'droop' },
      ],
      want: -200,
      overruled: 1,
    },
    {
      name: 'two offsets of one class add up',
      ps: [
        { ...base, kind: 'offset', value: 100, criticality: 'supply-quality', source: 'd1' },
        { ...base, kind: 'offset', value: 250, criticality: 'supply-quality', source: 'd2' },
      ],
      want: 350,
      overruled: 0,
    },
  ];
  for (const c of cases) {
    const r = resolveVariable('x', c.ps);
    assert.equal(r.value, c.want, c.name);
    assert.equal(r.overruled.length, c.overruled, `${c.name}: ${JSON.stringify(r.overruled)}`);
    // Order never decides.
    assert.equal(resolveVariable('x', [...c.ps].reverse()).value, c.want, `${c.name} (shuffled)`);
  }
});

test('closed loop on a pure plant: self-consumption neither fights nor integrates away a small droop response', () => {
  // grid = load - battery; the inverter follows its command within the cycle. A 60 W response (f just past f3)
  // is smaller than the loop's settled tolerance: without the applied offset in its error, the integral
  // would cancel it within a few cycles.
  const load = 1_200;
  let batteryW = 0;
  let applied = 0;
  let st: SelfConsumptionState = SELF_CONSUMPTION_START;
  const f = 50.1 + (60 / 2_000) * 0.4; // 60 W of charge
  for (let i = 0; i < 40; i++) {
    const now = T0 + i * 1_000;
    const values: Record<string, number> = {
      'grid/ActivePower': load - batteryW,
      'grid/Frequency': f,
      'ess0/ActivePower': batteryW,
      'ess0/Soc': 50,
      [command.appliedOffset(SET)]: applied,
    };
    const s = snap(now, values);
    const sc = selfConsumption(s, { id: 'self', grid, battery: bat }, st, now);
    st = sc.state;
    const d = frequencyDroop(s, DROOP, DROOP_START, now);
    const r = resolveVariable(SET, [...envelope(s, safety(), {}, 1_000, now).bounds, ...sc.proposals, ...d.proposals]);
    batteryW = r.value;
    applied = r.offset;
  }
  assert.ok(Math.abs(batteryW - (load - 60)) < 2, `battery ${batteryW.toFixed(1)} W: the self-consumption 1200 W plus the -60 W response`);
  assert.ok(Math.abs(st.integralW) < 2, `the integral stays near 0 (${st.integralW.toFixed(1)} W)`);
});
