import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startAlarms, type Alarms } from '../src/alarms/engine.js';
import { REVERSE_QUIET_MS } from '../src/alarms/rules/reverse-energy.js';
import { startSimSite, type SimSite } from './helpers/site.js';
import { tempDb } from './helpers/temp-db.js';

/** Night in UTC (the simulator's load shapes run on UTC here): no PV, so only an override exports. */
const NIGHT = Date.UTC(2026, 0, 15, 22, 0, 0);

interface Rig {
  readonly s: SimSite;
  readonly alarms: Alarms;
  /** Moves the simulator's clock (energy counters integrate over it). */
  advanceSim(ms: number): void;
  /** Moves the alarm engine's clock. */
  advanceEngine(ms: number): void;
  cycle(): Promise<void>;
}

/** The simulator on real Modbus (3 customers + main meter), polled by hand, with the alarm engine on its live feed. */
async function rig(t: { after: (fn: () => Promise<void> | void) => void }): Promise<Rig> {
  let simNow = NIGHT;
  let engineOffset = 0;
  const s = await startSimSite({ customers: 3, timeoutMs: 100, sim: { clock: () => simNow } });
  const db = tempDb(t);
  const alarms = startAlarms({
    db,
    site: s.site,
    config: s.config,
    now: () => Date.now() + engineOffset,
    periodicMs: 0,
    diskProbe: () => Promise.resolve({ freeBytes: 50, totalBytes: 100 }),
  });
  t.after(async () => {
    await alarms.stop();
    await s.close();
  });
  const poller = s.site.pollers()[0];
  assert.ok(poller);
  return {
    s,
    alarms,
    advanceSim: (ms) => void (simNow += ms),
    advanceEngine: (ms) => void (engineOffset += ms),
    cycle: async () => {
      await poller.runCycle();
    },
  };
}

const open = (a: Alarms, rule: string, subject: string) => a.store.findOpen(rule, subject);

async function cyclesUntil(r: Rig, done: () => boolean, max: number): Promise<number> {
  for (let i = 1; i <= max; i++) {
    await r.cycle();
    if (done()) return i;
  }
  assert.fail(`condition not reached within ${max} poll cycles`);
}

test('a silenced meter goes offline after offlineCycles cycles, once, and clears when it answers again', async (t) => {
  const r = await rig(t);
  await r.cycle();
  assert.equal(r.alarms.store.list().length, 0, 'a healthy site has no alarms');
  r.s.sim.slave.silence(3);
  await r.cycle();
  await r.cycle();
  assert.equal(open(r.alarms, 'meter_offline', 'meter3'), undefined, 'two bad cycles are not yet offline (offlineCycles = 3)');
  await r.cycle();
  const a = open(r.alarms, 'meter_offline', 'meter3');
  assert.ok(a, 'offline after the third bad cycle');
  assert.equal(a.severity, 'major');
  assert.match(a.message, /meter3 \(\w+\) gave no valid reading for 3 poll cycles \(last error: .+\)/);
  await r.cycle();
  await r.cycle();
  assert.equal(
    r.alarms.store.list({ state: 'all', meter: 'meter3' }).filter((x) => x.rule === 'meter_offline').length,
    1,
    'more bad cycles do not duplicate it',
  );
  assert.equal(open(r.alarms, 'meter_offline', 'meter2'), undefined, 'the other meters are fine');
  r.s.sim.slave.restore(3);
  // A dead meter is backed off for up to 8 cycles before it is asked again.
  await cyclesUntil(r, () => open(r.alarms, 'meter_offline', 'meter3') === undefined, 10);
  assert.equal(r.alarms.store.get(a.id)?.state, 'cleared');
  assert.deepEqual(
    r.alarms.store.events(a.id).map((e) => e.kind),
    ['raised', 'cleared'],
  );
});

test('a phase voltage dropped in the simulator raises a voltage alarm with the measured value, per phase channel; restoring clears it', async (t) => {
  const r = await rig(t);
  await r.cycle();
  r.s.sim.model.setGridDisturbance({ voltageOffsetV: { L2: -45 } });
  await r.cycle();
  const a = open(r.alarms, 'voltage', 'meter100/Voltage_L2');
  assert.ok(a, 'main meter L2 undervoltage');
  const measured = r.s.site.image.get('meter100', 'Voltage_L2')?.value;
  assert.ok(measured !== null && measured !== undefined && measured < 207);
  assert.ok(a.message.includes(`${measured.toFixed(1)} V`), `${a.message} names ${measured}`);
  assert.equal(open(r.alarms, 'voltage', 'meter100/Voltage_L1'), undefined, 'L1 is healthy');
  assert.equal(open(r.alarms, 'voltage', 'meter100/Voltage_L3'), undefined, 'L3 is healthy');
  assert.ok(open(r.alarms, 'voltage', 'meter3/Voltage_L1'), 'the customer on L2 sees it too');
  r.s.sim.model.setGridDisturbance({});
  await r.cycle();
  assert.equal(open(r.alarms, 'voltage', 'meter100/Voltage_L2'), undefined);
  assert.equal(r.alarms.store.get(a.id)?.state, 'cleared');
  assert.equal(r.alarms.store.list().length, 0);
});

test('a grid frequency outside [minHz, maxHz] raises one site alarm; back in range clears it', async (t) => {
  const r = await rig(t);
  r.s.sim.model.setGridDisturbance({ frequencyHz: 51.2 });
  await r.cycle();
  const a = open(r.alarms, 'frequency', 'site');
  assert.ok(a);
  assert.match(a.message, /over-frequency: 51.20 Hz \(meter100\)/);
  assert.equal(r.alarms.store.list().length, 1, 'one grid, one alarm');
  r.s.sim.model.setGridDisturbance({ frequencyHz: 48.9 });
  await r.cycle();
  assert.equal(r.alarms.store.get(a.id)?.condition, 'under', 'over -> under updates the open alarm');
  r.s.sim.model.setGridDisturbance({});
  await r.cycle();
  assert.equal(open(r.alarms, 'frequency', 'site'), undefined);
  assert.deepEqual(
    r.alarms.store.events(a.id).map((e) => e.kind),
    ['raised', 'updated', 'cleared'],
  );
});

test('a customer meter that exports raises reverse energy; an hour without export clears it', async (t) => {
  const r = await rig(t);
  await r.cycle(); // the engine first sees every export counter
  r.s.sim.model.setLoadOverride(2, { watts: -3000, powerFactor: 1 });
  r.advanceSim(5 * 60_000); // 3 kW for 5 min = 0.25 kWh exported
  // Energy registers are read every 6th cycle.
  await cyclesUntil(r, () => open(r.alarms, 'reverse_energy', 'meter2') !== undefined, 6);
  const a = open(r.alarms, 'reverse_energy', 'meter2');
  assert.ok(a);
  assert.match(a.message, /meter2 is a consumption meter but exported 0.2\d kWh/);
  assert.equal(open(r.alarms, 'reverse_energy', 'meter4'), undefined);
  assert.equal(open(r.alarms, 'reverse_energy', 'meter100'), undefined, 'the main meter is not a consumption meter');
  r.s.sim.model.setLoadOverride(2, undefined);
  r.advanceEngine(REVERSE_QUIET_MS / 2);
  await r.alarms.evaluateNow();
  assert.ok(open(r.alarms, 'reverse_energy', 'meter2'), 'still open half an hour later');
  r.advanceEngine(REVERSE_QUIET_MS / 2);
  await r.alarms.evaluateNow();
  assert.equal(r.alarms.store.get(a.id)?.state, 'cleared');
});

test('a meter listed in exportingMeters (PV) may export', async (t) => {
  let simNow = NIGHT;
  const s = await startSimSite({ customers: 3, timeoutMs: 100, sim: { clock: () => simNow } });
  const alarms = startAlarms({ db: tempDb(t), site: s.site, config: { ...s.config, alarms: { ...s.config.alarms, exportingMeters: [2] } }, periodicMs: 0 });
  t.after(async () => {
    await alarms.stop();
    await s.close();
  });
  const poller = s.site.pollers()[0];
  assert.ok(poller);
  await poller.runCycle();
  s.sim.model.setLoadOverride(2, { watts: -3000, powerFactor: 1 });
  simNow += 5 * 60_000;
  for (let i = 0; i < 6; i++) await poller.runCycle();
  assert.equal(alarms.store.list().length, 0);
});
