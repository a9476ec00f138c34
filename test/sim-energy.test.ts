import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_BATTERY,
  DEFAULT_GENERATOR,
  DEFAULT_INVERTER,
  DEFAULT_PV,
  EnergySystem,
  pvAvailableW,
  respond,
  type EnergySystemSpec,
} from '../src/sim/energy-system.js';
import { SiteModel } from '../src/sim/site-model.js';
import { PHASES } from '../src/sim/site-plan.js';
import { manualClock } from '../src/util/clock.js';

/** A fixed day (the physics depends on the hour, never on today's date). */
const NOON = Date.UTC(2026, 2, 10, 9, 0); // 12:00 in UTC+3
const NIGHT = Date.UTC(2026, 2, 10, 19, 0); // 22:00 in UTC+3
const NO_LOAD = { L1: 0, L2: 0, L3: 0 };

function spec(
  over: { battery?: Partial<EnergySystemSpec['battery']>; inverter?: Partial<EnergySystemSpec['inverter']>; pv?: Partial<EnergySystemSpec['pv']> } = {},
): EnergySystemSpec {
  return {
    battery: { ...DEFAULT_BATTERY, ...over.battery },
    inverter: { ...DEFAULT_INVERTER, ...over.inverter },
    pv: { ...DEFAULT_PV, ...over.pv },
    generator: DEFAULT_GENERATOR,
  };
}

function run(e: EnergySystem, fromMs: number, forMs: number, stepMs = 100, demand = NO_LOAD): void {
  for (let t = 0; t < forMs; t += stepMs) e.step(fromMs + t, stepMs, demand);
}

const essTotal = (e: EnergySystem): number => PHASES.reduce((s, ph) => s + e.snapshot().essW[ph], 0);

test('battery: SoC integrates power with charge and discharge efficiency', () => {
  const s = spec({
    battery: { capacityWh: 10_000, initialSoc: 0.5, chargeEfficiency: 0.95, dischargeEfficiency: 0.9 },
    inverter: { responseMs: 0, rampWPerS: 1e9 },
    pv: { peakW: { L1: 0, L2: 0, L3: 0 } },
  });
  const dis = new EnergySystem(s, 1);
  dis.setTotalSetpoint(2000);
  run(dis, NIGHT, 3_600_000, 1000);
  // 2 kWh delivered costs 2 / 0.9 = 2.222 kWh of the battery: 22.2 % of 10 kWh.
  assert.ok(Math.abs(dis.snapshot().soc - (0.5 - 2000 / 0.9 / 10_000)) < 1e-3, `soc ${dis.snapshot().soc}`);
  const chg = new EnergySystem(s, 1);
  chg.setTotalSetpoint(-2000);
  run(chg, NIGHT, 3_600_000, 1000);
  // 2 kWh taken in stores 2 x 0.95 = 1.9 kWh.
  assert.ok(Math.abs(chg.snapshot().soc - (0.5 + (2000 * 0.95) / 10_000)) < 1e-3, `soc ${chg.snapshot().soc}`);
  assert.ok(chg.snapshot().batteryCurrent < 0 && dis.snapshot().batteryCurrent > 0, 'battery current: discharge positive');
});

test('battery: power and SoC limits hold whatever the setpoint', () => {
  const s = spec({
    battery: { capacityWh: 2000, initialSoc: 0.2, socMin: 0.1, maxDischargeW: 3000 },
    inverter: { responseMs: 0, rampWPerS: 1e9, ratedW: 6000 },
    pv: { peakW: { L1: 0, L2: 0, L3: 0 } },
  });
  const e = new EnergySystem(s, 1);
  e.setTotalSetpoint(10_000);
  e.step(NIGHT, 100, NO_LOAD);
  assert.ok(Math.abs(essTotal(e) - 3000) < 1, `clamped to the battery's 3 kW, got ${essTotal(e)}`);
  run(e, NIGHT, 1_800_000);
  const snap = e.snapshot();
  assert.ok(snap.soc >= 0.1 - 1e-3, `soc ${snap.soc} stays at the floor`);
  assert.ok(snap.allowedDischargeW < 50 && essTotal(e) < 50, `no discharge at the floor: allowed ${snap.allowedDischargeW}, power ${essTotal(e)}`);
  assert.ok(snap.allowedChargeW > 0, 'charging is still allowed');
});

test('inverter: first-order response to a setpoint step, then the ramp limit', () => {
  const lag = new EnergySystem(spec({ inverter: { responseMs: 600, rampWPerS: 1e9 }, pv: { peakW: { L1: 0, L2: 0, L3: 0 } } }), 1);
  lag.setTotalSetpoint(3000);
  run(lag, NIGHT, 600, 100);
  // responseMs is the response time: 95 % of the step after it (three time constants of 200 ms).
  assert.ok(Math.abs(essTotal(lag) - 3000 * (1 - Math.exp(-3))) < 5, `95 % after the response time, got ${essTotal(lag)}`);
  run(lag, NIGHT + 600, 200, 100);
  assert.ok(Math.abs(essTotal(lag) - 3000 * (1 - Math.exp(-4))) < 5, `98 % after one time constant more, got ${essTotal(lag)}`);
  const ramp = new EnergySystem(spec({ inverter: { responseMs: 0, rampWPerS: 1000 }, pv: { peakW: { L1: 0, L2: 0, L3: 0 } } }), 1);
  ramp.setTotalSetpoint(3000);
  run(ramp, NIGHT, 1000, 100);
  assert.ok(Math.abs(essTotal(ramp) - 1000) < 1, `1 kW/s ramp: ${essTotal(ramp)} W after 1 s`);
  assert.equal(respond(0, 100, 100, 0, 1e9), 100);
});

test('PV: a daily profile, clouds per phase, the same for a seed and different for another', () => {
  const pv = { peakW: { L1: 2000, L2: 2000, L3: 2000 }, cloudiness: 0.8 };
  assert.equal(pvAvailableW(1, pv, 'L1', NIGHT, 3), 0);
  const series = (seed: number, ph: 'L1' | 'L2' | 'L3'): number[] => Array.from({ length: 120 }, (_, i) => pvAvailableW(seed, pv, ph, NOON + i * 30_000, 3));
  assert.deepEqual(series(7, 'L1'), series(7, 'L1'));
  assert.notDeepEqual(series(7, 'L1'), series(7, 'L2'));
  assert.notDeepEqual(series(7, 'L1'), series(8, 'L1'));
  const l1 = series(7, 'L1');
  assert.ok(Math.max(...l1) <= 2000 && Math.min(...l1) >= 0.15 * 2000 * 0.95, 'between the cloud floor and peak');
  assert.ok(Math.max(...l1) - Math.min(...l1) > 100, 'clouds pass within an hour');
});

test('site: the main meter sees loads - PV - battery discharge per phase; deterministic for a seed and a clock', () => {
  const make = (): { model: SiteModel; clock: ReturnType<typeof manualClock> } => {
    const clock = manualClock(NOON);
    return {
      model: new SiteModel({ seed: 4, customers: 12, clock, utcOffsetHours: 3, energy: spec({ inverter: { responseMs: 500, rampWPerS: 1e9 } }) }),
      clock,
    };
  };
  const a = make();
  const b = make();
  for (const m of [a, b]) {
    m.model.energy?.setTotalSetpoint(1500);
    for (let i = 0; i < 50; i++) {
      m.clock.advance(100);
      m.model.update();
    }
  }
  assert.deepEqual(a.model.meterValues(100), b.model.meterValues(100));
  const snap = a.model.energy?.snapshot() ?? assert.fail('no energy system');
  const flows = a.model.phaseFlows();
  const demand = a.model.demandW();
  for (const ph of PHASES) {
    assert.ok(snap.pvW[ph] > 0, 'PV produces at noon');
    const expected = demand[ph] - snap.pvW[ph] - snap.essW[ph] - snap.genW[ph];
    assert.ok(Math.abs(flows[ph].mainW - expected) < 1e-6, `${ph}: main ${flows[ph].mainW}, expected ${expected}`);
  }
});

test('grid failure: the site islands on the inverter, the grid meter reads 0, frequency from the inverter; the grid comes back', () => {
  const clock = manualClock(NIGHT);
  const model = new SiteModel({ seed: 2, customers: 12, clock, utcOffsetHours: 3, energy: spec() });
  model.update();
  const before = model.meterValues(100) ?? assert.fail('main meter');
  assert.ok((before.ActivePower ?? 0) > 100, 'imports at night');
  model.setGridConnected(false);
  clock.advance(1000);
  model.update();
  const main = model.meterValues(100) ?? assert.fail('main meter');
  assert.equal(main.ActivePower, 0);
  for (const ph of PHASES) assert.equal(main[`ActivePower_${ph}`], 0);
  assert.equal(main.Frequency, 50);
  const snap = model.energy?.snapshot() ?? assert.fail('no energy');
  const demand = model.demandW();
  const total = PHASES.reduce((s, ph) => s + demand[ph], 0);
  assert.ok(Math.abs(PHASES.reduce((s, ph) => s + snap.essW[ph], 0) - total) < 1, 'the battery carries the whole site');
  assert.ok((model.meterValues(2)?.Voltage_L1 ?? 0) > 200, 'customers keep their voltage');
  const soc0 = snap.soc;
  for (let i = 0; i < 60; i++) {
    clock.advance(1000);
    model.update();
  }
  assert.ok((model.energy?.snapshot().soc ?? 1) < soc0, 'the island drains the battery');
  model.setGridConnected(true);
  clock.advance(1000);
  model.update();
  assert.ok((model.meterValues(100)?.ActivePower ?? 0) > 100, 'imports again');
});

test('grid failure with a single-phase SRNE: its phase is supplied, the others go dark', () => {
  const clock = manualClock(NIGHT);
  const model = new SiteModel({ seed: 2, customers: 6, clock, utcOffsetHours: 3, energy: spec({ inverter: { protocol: 'srne', phases: ['L1'] } }) });
  model.update();
  model.setGridConnected(false);
  clock.advance(1000);
  model.update();
  const onL1 = model.meters().find((m) => m.phase === 'L1')?.id ?? assert.fail();
  const onL2 = model.meters().find((m) => m.phase === 'L2')?.id ?? assert.fail();
  assert.ok((model.meterValues(onL1)?.Voltage_L1 ?? 0) > 200);
  assert.equal(model.meterValues(onL2)?.Voltage_L1, 0);
  assert.equal(model.meterValues(onL2)?.ActivePower, 0);
});

test('SRNE modes: SBU carries the load from the battery, UTI charges from the utility up to the AC cap', () => {
  const clock = manualClock(NIGHT);
  const model = new SiteModel({
    seed: 3,
    customers: 9,
    clock,
    utcOffsetHours: 3,
    energy: spec({ inverter: { protocol: 'srne', phases: ['L1'], responseMs: 500 } }),
  });
  const e = model.energy ?? assert.fail();
  for (let i = 0; i < 50; i++) {
    clock.advance(100);
    model.update();
  }
  assert.equal(e.snapshot().mode, 'inverter');
  assert.ok(Math.abs(model.phaseFlows().L1.mainW) < 0.05 * model.demandW().L1 + 5, `SBU: L1 import near 0, got ${model.phaseFlows().L1.mainW}`);
  e.srne.outputPriority = 1; // UTI
  e.srne.chargerPriority = 1; // CUB
  e.srne.maxAcChargeA = 20;
  for (let i = 0; i < 50; i++) {
    clock.advance(100);
    model.update();
  }
  const s = e.snapshot();
  assert.equal(s.mode, 'line');
  assert.ok(s.essW.L1 < 0 && Math.abs(-s.essW.L1 - 20 * s.batteryVoltage) < 0.02 * 20 * s.batteryVoltage, `charges at 20 A x V: ${s.essW.L1}`);
});

test('generator: starts after its delay and ramps; e-stop stops every asset at once', () => {
  const clock = manualClock(NIGHT);
  const model = new SiteModel({ seed: 3, customers: 3, clock, energy: spec() });
  const e = model.energy ?? assert.fail();
  e.genSetpointW = 3000;
  e.setGeneratorRunning(true, clock());
  for (let i = 0; i < 90; i++) {
    clock.advance(100);
    model.update();
  }
  assert.equal(e.snapshot().genRunning, false, 'not yet: 10 s start delay');
  for (let i = 0; i < 20; i++) {
    clock.advance(100);
    model.update();
  }
  assert.equal(e.snapshot().genRunning, true);
  const g = PHASES.reduce((s, ph) => s + e.snapshot().genW[ph], 0);
  assert.ok(g > 0 && g <= 1000 * 1.1 + 1, `ramps at 1 kW/s: ${g}`);
  e.setTotalSetpoint(2000);
  for (let i = 0; i < 30; i++) {
    clock.advance(100);
    model.update();
  }
  e.setEmergencyStop(true);
  const s = e.snapshot();
  assert.equal(s.genRunning, false);
  assert.equal(
    PHASES.reduce((x, ph) => x + s.essW[ph] + s.pvW[ph], 0),
    0,
  );
  clock.advance(1000);
  model.update();
  assert.equal(e.snapshot().mode, 'shutdown');
});
