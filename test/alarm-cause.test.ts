import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startAlarms, type Alarms } from '../src/alarms/engine.js';
import { loadProfiles } from '../src/drivers/profiles.js';
import { Recorder } from '../src/recorder/recorder.js';
import { SiteRuntime } from '../src/site/site-runtime.js';
import { startSimSite, type SimSite } from './helpers/site.js';
import { tempDb } from './helpers/temp-db.js';

/**
 * Alarms that name the cause, once: through the real poller against the simulator over Modbus
 * (RTU over TCP). Every clock here is a hand-moved one starting at a fixed date, 10 s per cycle.
 */
const T0 = Date.UTC(2026, 0, 15, 22, 0, 0);
const CYCLE_MS = 10_000;

interface Rig {
  readonly s: SimSite;
  readonly site: SiteRuntime;
  readonly alarms: Alarms;
  readonly recorder: Recorder;
  /** One poll cycle, then the clock moves on by one poll interval. */
  cycle(): Promise<void>;
  advance(ms: number): void;
}

/** Main meter + 3 customers on one bus; a recorder writing to a real SQLite file; the alarm engine on the live feed. */
async function rig(t: { after: (fn: () => Promise<void> | void) => void }, opts: { keepSim?: boolean } = {}): Promise<Rig> {
  let now = T0;
  const clock = (): number => now;
  const s = await startSimSite({ customers: 3, timeoutMs: 100, sim: { clock } });
  const db = tempDb(t);
  const recorder = new Recorder(db, { flushIntervalMs: 0, rawRetentionDays: 90, now: clock });
  const site = new SiteRuntime(s.config, loadProfiles(), recorder, clock);
  const alarms = startAlarms({ db, site, config: s.config, now: clock, periodicMs: 0, diskProbe: () => Promise.resolve({ freeBytes: 50, totalBytes: 100 }) });
  t.after(async () => {
    await alarms.stop();
    await site.stop();
    await s.site.stop();
    if (!opts.keepSim) await s.sim.close();
  });
  const poller = site.pollers()[0];
  assert.ok(poller);
  return {
    s,
    site,
    alarms,
    recorder,
    cycle: async () => {
      await poller.runCycle();
      now += CYCLE_MS;
    },
    advance: (ms) => void (now += ms),
  };
}

const history = (a: Alarms, rule: string) => a.store.list({ state: 'all', limit: 1000 }).filter((x) => x.rule === rule);

test('a meter silent for exactly one cycle raises no offline alarm, and its energy is not ERROR after its next good read', async (t) => {
  const r = await rig(t);
  await r.cycle(); // cycle 0: every group of every meter
  const energyRead = r.site.image.get('meter3', 'EnergyImport');
  assert.equal(energyRead?.quality, 'GOOD');
  r.s.sim.slave.silence(3);
  await r.cycle(); // cycle 1: meter3 fails (energy not due: meter3 reads it in cycles 4, 10, ...)
  assert.equal(r.site.image.get('meter3', 'Voltage_L1')?.quality, 'ERROR', 'the group it failed to read is ERROR');
  r.s.sim.slave.restore(3);
  await r.cycle(); // cycle 2: meter3 is backed off for one cycle
  await r.cycle(); // cycle 3: meter3 answers; energy is still not due
  assert.equal(r.site.image.get('meter3', 'Voltage_L1')?.quality, 'GOOD');
  const energy = r.site.image.get('meter3', 'EnergyImport');
  assert.equal(energy?.ts, energyRead.ts, 'the energy group was not read again: this is the case under test');
  assert.equal(energy.quality, 'GOOD', 'energy keeps the quality of its own last read');
  assert.equal(r.site.image.quality('meter3'), 'GOOD');
  for (let i = 0; i < 3; i++) await r.cycle();
  assert.deepEqual(history(r.alarms, 'meter_offline'), [], 'no offline alarm was ever raised');
});

test('a silent meter raises offline naming its bus, but not "not logging"', async (t) => {
  const r = await rig(t);
  await r.cycle();
  r.recorder.flushAndBuild();
  r.s.sim.slave.silence(3);
  for (let i = 0; i < 3; i++) await r.cycle();
  const offline = r.alarms.store.findOpen('meter_offline', 'meter3');
  assert.ok(offline, 'offline after 3 cycles without an answer');
  const port = `127.0.0.1:${r.s.sim.rtuTcpPort}`;
  assert.ok(offline.message.includes(`on bus bus1 (${port}), whose other meters answer`), offline.message);
  // 16 minutes of silence (limit 15) while the others keep answering and being stored.
  for (let i = 0; i < 6; i++) {
    r.advance(160_000);
    await r.cycle();
  }
  r.recorder.flushAndBuild();
  await r.alarms.evaluateNow();
  assert.ok(r.alarms.store.findOpen('meter_offline', 'meter3'), 'still offline');
  assert.deepEqual(
    history(r.alarms, 'not_logging').map((a) => a.subject),
    [],
    'the cause is the meter, not the recorder',
  );
  assert.equal(r.alarms.store.list().length, 1, 'one alarm, for one cause');
});

test('a bus whose port dies raises one bus alarm naming the port; its meters raise none', async (t) => {
  const r = await rig(t, { keepSim: true });
  await r.cycle();
  r.recorder.flushAndBuild();
  await r.s.sim.close(); // the gateway goes away: every request on the bus fails
  for (let i = 0; i < 12; i++) await r.cycle();
  r.advance(16 * 60_000);
  await r.cycle();
  r.recorder.flushAndBuild();
  await r.alarms.evaluateNow();
  const open = r.alarms.store.list();
  assert.deepEqual(
    open.map((a) => `${a.rule}:${a.subject}`),
    ['bus_down:bus:bus1'],
  );
  const bus = open[0];
  assert.ok(bus);
  assert.equal(bus.severity, 'critical', 'the main meter is on it');
  assert.ok(bus.message.includes(`bus bus1 (127.0.0.1:${r.s.sim.rtuTcpPort})`), bus.message);
  assert.match(bus.message, /none of its 4 meters \(meter100, meter2, meter3, meter4\) answered/);
  assert.deepEqual(history(r.alarms, 'meter_offline'), []);
});

test('a bus that goes silent and comes back: one bus alarm, cleared; no meter alarm on the way down or up', async (t) => {
  const r = await rig(t);
  const all = [100, 2, 3, 4];
  await r.cycle();
  for (const a of all) r.s.sim.slave.silence(a);
  for (let i = 0; i < 10; i++) await r.cycle();
  assert.ok(r.alarms.store.findOpen('bus_down', 'bus:bus1'));
  for (const a of all) r.s.sim.slave.restore(a);
  // Back-off: the meters are asked again within 8 cycles.
  for (let i = 0; i < 10; i++) await r.cycle();
  assert.equal(r.alarms.store.findOpen('bus_down', 'bus:bus1'), undefined);
  assert.equal(history(r.alarms, 'bus_down').length, 1);
  assert.deepEqual(history(r.alarms, 'meter_offline'), []);
  for (const m of ['meter100', 'meter2', 'meter3', 'meter4']) assert.equal(r.site.image.quality(m), 'GOOD', m);
});
