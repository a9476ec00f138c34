import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Battery, GridMeter, PvInverter } from '../src/edge/capabilities.js';
import { enforce, envelope, type SafetyConfig } from '../src/edge/safety-envelope.js';
import { resolve } from '../src/edge/resolver.js';
import type { Proposal } from '../src/edge/proposal.js';
import { mulberry32 } from '../src/sim/prng.js';
import { snap, T0 } from './helpers/edge-snapshot.js';

const grid: GridMeter = { kind: 'grid-meter', component: 'grid', perPhase: true };
const battery: Battery = { kind: 'battery-setpoint', component: 'ess0', perPhase: false, phases: 3, maxChargeW: 5_000, maxDischargeW: 6_000 };
const pv: PvInverter = { kind: 'pv-limit', component: 'pv0', perPhase: false, phases: 3, ratedW: 10_000 };
const cfg = (over: Partial<SafetyConfig> = {}): SafetyConfig => ({
  grid,
  batteries: [
    { battery, socMinPct: 10, socMaxPct: 95, rampWPerS: 2_000, tempMinC: -10, tempMaxC: 55, chargeTempMinC: 0, cellVoltageMinV: 2.9, cellVoltageMaxV: 3.6 },
  ],
  pv: [{ pv }],
  generators: [{ kind: 'generator', component: 'gen0', ratedW: 20_000 }],
  exportLimitW: 0,
  eStopChannel: 'io0/EmergencyStop',
  maxAgeMs: 3_000,
  ...over,
});
const good = { 'grid/ActivePower': 500, 'ess0/Soc': 50, 'ess0/ActivePower': 0, 'pv0/ActivePower': 3_000, 'io0/EmergencyStop': 0 };
const at = (env: ReturnType<typeof envelope>, target: string) => {
  const bs = env.bounds.filter((b) => b.target === target);
  return { min: Math.max(...bs.map((b) => b.min ?? -Infinity)), max: Math.min(...bs.map((b) => b.max ?? Infinity)), why: bs.map((b) => b.why).join(' | ') };
};

interface Case {
  readonly name: string;
  readonly values: Record<string, number | { value: number | null; ts: number; quality: 'GOOD' | 'STALE' | 'ERROR' }>;
  readonly battery: [number, number];
  readonly pvMax?: number;
  readonly why?: RegExp;
  readonly last?: Record<string, number>;
}
const stale = (v: number) => ({ value: v, ts: T0 - 30_000, quality: 'STALE' as const });
const cases: Case[] = [
  { name: 'all good: rating, ramp 2 kW/s from idle', values: good, battery: [-2_000, 2_000], pvMax: 10_000 },
  {
    name: 'after 1 s at 1.5 kW: up to 3.5 kW, down to idle and beyond by one step',
    values: good,
    last: { 'ess0/SetActivePower': 1_500 },
    battery: [-2_000, 3_500],
  },
  {
    name: 'stale grid meter: battery idle, PV to the export limit (0: curtailed)',
    values: { ...good, 'grid/ActivePower': stale(500) },
    battery: [0, 0],
    pvMax: 0,
    why: /grid meter not usable/,
  },
  { name: 'missing SoC: battery idle', values: { ...good, 'ess0/Soc': { value: null, ts: T0, quality: 'ERROR' } }, battery: [0, 0], why: /ess0\/Soc ERROR/ },
  { name: 'e-stop pressed: everything safe', values: { ...good, 'io0/EmergencyStop': 1 }, battery: [0, 0], pvMax: 0, why: /emergency stop pressed/ },
  {
    name: 'e-stop input unreadable: fail safe',
    values: { ...good, 'io0/EmergencyStop': stale(0) },
    battery: [0, 0],
    pvMax: 0,
    why: /emergency-stop input not readable/,
  },
  { name: 'SoC at max: no charging', values: { ...good, 'ess0/Soc': 95 }, battery: [0, 2_000] },
  { name: 'SoC at min: no discharging', values: { ...good, 'ess0/Soc': 10 }, battery: [-2_000, 0] },
  {
    name: 'BMS allows 1 kW charge, 500 W discharge',
    values: { ...good, 'ess0/AllowedChargePower': 1_000, 'ess0/AllowedDischargePower': 500 },
    battery: [-1_000, 500],
  },
  { name: 'BMS limits reported but stale: idle', values: { ...good, 'ess0/AllowedChargePower': stale(1_000) }, battery: [0, 0] },
  { name: 'too hot: idle', values: { ...good, 'ess0/BatteryTemperature': 60 }, battery: [0, 0], why: /temperature 60/ },
  { name: 'below 0 °C: no charging', values: { ...good, 'ess0/BatteryTemperature': -2 }, battery: [0, 2_000] },
  { name: 'a cell at 3.62 V: no charging', values: { ...good, 'ess0/CellVoltageMax': 3.62, 'ess0/CellVoltageMin': 3.3 }, battery: [0, 2_000] },
  { name: 'fault code: idle', values: { ...good, 'ess0/FaultCode': 14 }, battery: [0, 0], why: /fault code 14/ },
  { name: 'PV telemetry stale: PV to the export limit', values: { ...good, 'pv0/ActivePower': stale(3_000) }, battery: [-2_000, 2_000], pvMax: 0 },
];
for (const c of cases) {
  test(`safety envelope: ${c.name}`, () => {
    const env = envelope(snap(T0, c.values), cfg(), c.last ?? {}, 1_000, T0);
    const b = at(env, 'ess0/SetActivePower');
    assert.deepEqual([b.min, b.max], c.battery, b.why);
    if (c.pvMax !== undefined) assert.equal(at(env, 'pv0/ActivePowerLimit').max, c.pvMax);
    if (c.why) assert.match(`${b.why} ${env.safe.map((s) => s.why).join(' ')}`, c.why);
  });
}

test('safety envelope: the export limit when export is allowed up to 4 kW and the grid meter is stale', () => {
  const env = envelope(snap(T0, { ...good, 'grid/ActivePower': stale(0) }), cfg({ exportLimitW: 4_000 }), {}, 1_000, T0);
  assert.equal(at(env, 'pv0/ActivePowerLimit').max, 4_000);
  assert.deepEqual(env.safe.map((s) => s.component).sort(), ['ess0', 'pv0']);
});

test('safety envelope: e-stop stops the generator', () => {
  const env = envelope(snap(T0, { ...good, 'io0/EmergencyStop': 1 }), cfg(), {}, 1_000, T0);
  assert.deepEqual([at(env, 'gen0/SetRunning').min, at(env, 'gen0/SetRunning').max], [0, 0]);
  assert.equal(env.eStop, true);
});

test('safety envelope: whatever controllers, operators or schedules ask, the dispatched values stay inside the limits (random)', () => {
  const rng = mulberry32(2026);
  let last: Record<string, number> = {};
  for (let k = 0; k < 2_000; k++) {
    const values: Case['values'] = {
      ...good,
      'ess0/Soc': Math.round(rng() * 100),
      'ess0/AllowedChargePower': Math.round(rng() * 6_000),
      'ess0/AllowedDischargePower': Math.round(rng() * 7_000),
      'ess0/BatteryTemperature': Math.round(rng() * 80 - 15),
      'io0/EmergencyStop': rng() < 0.05 ? 1 : 0,
      ...(rng() < 0.1 ? { 'grid/ActivePower': stale(0) } : {}),
    };
    const s = snap(T0 + k * 1_000, values);
    const env = envelope(s, cfg(), last, 1_000, T0 + k * 1_000);
    const wild: Proposal[] = [
      {
        kind: 'target',
        target: 'ess0/SetActivePower',
        value: (rng() - 0.5) * 40_000,
        criticality: rng() < 0.5 ? 'business' : 'supply-quality',
        source: 'anyone',
        why: 'random',
      },
      { kind: 'bound', target: 'ess0/SetActivePower', min: rng() * 20_000, criticality: 'supply-quality', source: 'droop', why: 'random' },
      { kind: 'target', target: 'pv0/ActivePowerLimit', value: rng() * 30_000, criticality: 'optimisation', source: 'anyone', why: 'random' },
    ];
    const r = resolve([...env.bounds, ...wild]);
    const out = enforce(new Map([...r].map(([t, x]) => [t, x.value])), env);
    for (const [target, e] of out) {
      const lim = at(env, target);
      assert.ok(e.value >= lim.min - 1e-9 && e.value <= lim.max + 1e-9, `${target} = ${e.value} outside ${lim.min}..${lim.max}`);
      assert.equal(e.clampedFrom, undefined, 'the resolver already respected the envelope');
    }
    const bat = out.get('ess0/SetActivePower')?.value ?? 0;
    const soc = values['ess0/Soc'] as number;
    if (soc >= 95) assert.ok(bat >= 0);
    if (soc <= 10) assert.ok(bat <= 0);
    if (values['io0/EmergencyStop'] === 1) assert.equal(bat, 0);
    assert.ok(
      Math.abs(bat - (last['ess0/SetActivePower'] ?? 0)) <= 2_000 + 1e-9 || Math.abs(bat) < Math.abs(last['ess0/SetActivePower'] ?? 0),
      'ramp away from idle',
    );
    last = { 'ess0/SetActivePower': bat };
  }
});
