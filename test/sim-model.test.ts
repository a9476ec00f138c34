import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SiteModel } from '../src/sim/site-model.js';
import { dailyShape, loadAt } from '../src/sim/load-profile.js';
import { PHASES } from '../src/sim/site-plan.js';
import { gaussian, mulberry32, smoothNoise } from '../src/sim/prng.js';

const T0 = Date.UTC(2026, 0, 15, 0, 0, 0);
const HOUR = 3_600_000;

/** A model whose clock the test moves by hand. */
function steppedModel(seed = 1, customers = 24): { model: SiteModel; at: (t: number) => void } {
  let now = T0;
  const model = new SiteModel({ seed, customers, clock: () => now });
  return {
    model,
    at: (t) => {
      now = t;
      model.update();
    },
  };
}

test('prng: mulberry32 is reproducible and gaussian has mean ~0, sd ~1', () => {
  const a = mulberry32(42);
  const b = mulberry32(42);
  for (let i = 0; i < 5; i++) assert.equal(a(), b());
  const rng = mulberry32(7);
  const xs = Array.from({ length: 20_000 }, () => gaussian(rng));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length);
  assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
  assert.ok(Math.abs(sd - 1) < 0.03, `sd ${sd}`);
  // Hashed noise is a pure function of its arguments, whatever was asked before.
  assert.equal(smoothNoise(1, 2, 123_456, 60_000), smoothNoise(1, 2, 123_456, 60_000));
});

test('load profiles: households peak in the evening, shops in the daytime; pure in (kind, seed, time)', () => {
  assert.ok(dailyShape('household', 19.5) > 2 * dailyShape('household', 13));
  assert.ok(dailyShape('household', 7) > 2 * dailyShape('household', 3));
  assert.ok(dailyShape('shop', 12) > 5 * dailyShape('shop', 2));
  const t = T0 + 19 * HOUR;
  assert.deepEqual(loadAt('household', 9, t, 500), loadAt('household', 9, t, 500));
  assert.notDeepEqual(loadAt('household', 9, t, 500), loadAt('household', 10, t, 500));
});

test('same seed and time sequence give the same values; another seed gives others', () => {
  const one = steppedModel(5);
  const two = steppedModel(5);
  const other = steppedModel(6);
  for (const t of [T0 + 1000, T0 + 7 * HOUR, T0 + 19.5 * HOUR]) {
    for (const m of [one, two, other]) m.at(t);
    for (const id of [2, 13, 25, 100]) assert.deepEqual(one.model.meterValues(id), two.model.meterValues(id));
  }
  assert.notDeepEqual(one.model.meterValues(100), other.model.meterValues(100));
});

test('the main meter sees the sum of its customers per phase plus small positive line losses', () => {
  const { model, at } = steppedModel(3);
  const customersOn = new Map(
    PHASES.map((ph) => [
      ph,
      model
        .meters()
        .filter((m) => m.phase === ph)
        .map((m) => m.id),
    ]),
  );
  for (const hour of [3, 8, 13, 19.5]) {
    at(T0 + hour * HOUR);
    const main = model.meterValues(100) ?? assert.fail('main meter missing');
    let total = 0;
    for (const ph of PHASES) {
      const sum = (customersOn.get(ph) ?? []).reduce((s, id) => s + (model.meterValues(id)?.ActivePower ?? NaN), 0);
      const mainW = main[`ActivePower_${ph}`] ?? NaN;
      const loss = mainW - sum;
      assert.ok(loss > 0, `${ph} at ${hour} h: loss ${loss} W must be positive`);
      assert.ok(loss < 0.06 * mainW, `${ph} at ${hour} h: loss ${loss} W of ${mainW} W must be a few percent`);
      assert.ok(Math.abs(loss - model.phaseFlows()[ph].lossW) < 1e-9);
      total += mainW;
    }
    assert.ok(Math.abs((main.ActivePower ?? NaN) - total) < 1e-9);
  }
});

test('voltages, frequency and currents are physical', () => {
  const { model, at } = steppedModel(4);
  for (let h = 0; h < 24; h += 1.5) {
    at(T0 + h * HOUR);
    for (const m of model.meters()) {
      const v = model.meterValues(m.id) ?? assert.fail();
      assert.ok((v.Voltage_L1 ?? 0) > 215 && (v.Voltage_L1 ?? 0) < 245, `V ${v.Voltage_L1}`);
      assert.ok(Math.abs((v.Frequency ?? 0) - 50) < 0.2);
      const s = Math.hypot(v.ActivePower ?? 0, v.ReactivePower ?? 0);
      if (m.phases === 1) assert.ok(Math.abs((v.Current_L1 ?? 0) * (v.Voltage_L1 ?? 0) - s) < 0.01 * s + 1, 'I = S / V');
    }
    const main = model.meterValues(100) ?? assert.fail();
    assert.ok((main.Voltage_L12 ?? 0) > 380 && (main.Voltage_L12 ?? 0) < 420);
  }
});

test('energy counters integrate power: a fixed 1 kW load for one hour adds 1 kWh', () => {
  const { model, at } = steppedModel(2);
  model.setLoadOverride(2, { watts: 1000, powerFactor: 1 }); // customer 2 is a household without PV
  at(T0 + 1000);
  const before = model.meterValues(2) ?? assert.fail();
  assert.equal(before.ActivePower, 1000);
  at(T0 + 1000 + HOUR);
  const after = model.meterValues(2) ?? assert.fail();
  assert.ok(Math.abs((after.EnergyImport ?? 0) - (before.EnergyImport ?? 0) - 1) < 1e-9);
  assert.equal(after.EnergyExport, before.EnergyExport);
});

test('energy counters: hand-computed sum of power x time with uneven steps', () => {
  const { model, at } = steppedModel(8);
  const times = [T0 + 19 * HOUR, T0 + 19 * HOUR + 3000, T0 + 19 * HOUR + 7000, T0 + 19 * HOUR + 16_000];
  at(times[0] ?? 0);
  const start = model.meterValues(100)?.EnergyImport ?? NaN;
  let expected = start;
  for (let i = 1; i < times.length; i++) {
    const p = model.meterValues(100)?.ActivePower ?? NaN; // held over the step, like a meter sampling
    expected += (p * ((times[i] ?? 0) - (times[i - 1] ?? 0))) / 3.6e9; // W x ms -> kWh
    at(times[i] ?? 0);
  }
  assert.ok(Math.abs((model.meterValues(100)?.EnergyImport ?? NaN) - expected) < 1e-9);
  assert.ok(expected > start);
});

test('an open relay gives 0 W and stops the counter; closing it restores the load', () => {
  const { model, at } = steppedModel(3);
  at(T0 + 19 * HOUR);
  const on = model.meterValues(6) ?? assert.fail();
  assert.ok((on.ActivePower ?? 0) > 0);
  const mainBefore = model.meterValues(100)?.ActivePower ?? NaN;
  model.setLoadConnected(6, false);
  const off = model.meterValues(6) ?? assert.fail();
  assert.equal(off.ActivePower, 0);
  assert.equal(off.Current_L1, 0);
  assert.ok((off.Voltage_L1 ?? 0) > 215, 'the meter still measures the supply voltage');
  assert.ok((model.meterValues(100)?.ActivePower ?? NaN) < mainBefore - 0.9 * (on.ActivePower ?? 0));
  at(T0 + 20 * HOUR);
  assert.equal(model.meterValues(6)?.EnergyImport, off.EnergyImport);
  model.setLoadConnected(6, true);
  assert.ok((model.meterValues(6)?.ActivePower ?? 0) > 0);
  assert.equal(model.isLoadConnected(6), true);
  assert.throws(() => model.setLoadConnected(100, false), /no simulated customer/);
});

test('unmetered load (theft) shows only on the main meter', () => {
  const { model, at } = steppedModel(3);
  at(T0 + 12 * HOUR);
  const before = model.meterValues(100)?.ActivePower_L2 ?? NaN;
  const customer = model.meterValues(3); // a customer on L2
  assert.equal(model.addUnmeteredLoad('L2', 800), 800);
  assert.ok((model.meterValues(100)?.ActivePower_L2 ?? NaN) >= before + 800);
  assert.equal(model.meterValues(3)?.ActivePower, customer?.ActivePower);
  assert.ok((model.meterValues(3)?.Voltage_L1 ?? NaN) < (customer?.Voltage_L1 ?? NaN), 'more current on the feeder, more voltage drop');
  assert.equal(model.phaseFlows().L2.unmeteredW, 800);
  assert.equal(model.addUnmeteredLoad('L2', -800), 0);
});

test('time never runs backwards and unknown meters have no values', () => {
  const { model, at } = steppedModel(1, 3);
  at(T0 + HOUR);
  const v = model.meterValues(100);
  model.advanceTo(T0);
  assert.deepEqual(model.meterValues(100), v);
  assert.equal(model.meterValues(5), undefined);
  assert.deepEqual(
    model.meters().map((m) => m.id),
    [100, 2, 3, 4],
  );
  assert.throws(() => new SiteModel({ customers: 99 }), /0 to 98/);
});
