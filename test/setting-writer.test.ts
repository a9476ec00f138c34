import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { busSchema } from '../src/config/site-config.js';
import { loadDeviceProfiles } from '../src/drivers/profiles.js';
import { SettingMismatch, SettingRefused, SettingWriter, type BudgetExceeded } from '../src/drivers/setting-writer.js';
import { ModbusBus } from '../src/modbus/bus.js';
import { DEFAULT_BATTERY, DEFAULT_INVERTER, DEFAULT_PV } from '../src/sim/energy-system.js';
import { startSimulator } from '../src/sim/simulator.js';
import { openDatabase } from '../src/store/database.js';
import { manualClock } from '../src/util/clock.js';

/** The EEPROM setting writer through real Modbus TCP against the simulated SRNE. */
const T0 = Date.UTC(2026, 5, 1, 8, 0);
const SRNE = loadDeviceProfiles().get('SRNE-HYBRID') ?? assert.fail('no SRNE profile');

async function setup(t: { after: (fn: () => Promise<void> | void) => void }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-writer-'));
  const file = path.join(dir, 'mgos.db');
  const clock = manualClock(T0);
  const sim = await startSimulator({
    seed: 1,
    customers: 3,
    clock,
    energy: { spec: { battery: DEFAULT_BATTERY, pv: DEFAULT_PV, inverter: { ...DEFAULT_INVERTER, protocol: 'srne', phases: ['L1'] } } },
  });
  const bus = new ModbusBus(busSchema.parse({ id: 'inv', transport: 'tcp', host: sim.host, port: sim.energy?.mbapPort ?? 0 }), clock);
  const dbs: Array<{ close(): void }> = [];
  t.after(async () => {
    await bus.close();
    await sim.close();
    for (const d of dbs) d.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const exceeded: BudgetExceeded[] = [];
  const writer = (budget = 3): SettingWriter => {
    const db = openDatabase(file);
    dbs.push(db);
    return new SettingWriter(
      db,
      bus,
      { key: 'ess0', address: 1, profile: SRNE },
      { clock, dailyBudget: budget, timeZone: 'Africa/Kampala', onBudgetExceeded: (e) => exceeded.push(e) },
    );
  };
  return { sim, clock, writer, exceeded, inverter: sim.energy?.inverter ?? assert.fail() };
}

test('writes only on change, and reads back what it wrote', async (t) => {
  const { sim, writer, inverter } = await setup(t);
  const w = writer();
  const first = await w.write('MaxChargeCurrent', 45.5);
  assert.deepEqual(first, { written: true, value: 45.5, previous: 80 });
  assert.equal(sim.energy?.system.srne.maxChargeA, 45.5, 'the simulated inverter took it');
  for (let i = 0; i < 10; i++) assert.equal((await w.write('MaxChargeCurrent', 45.5)).written, false, 'same value: no write');
  assert.equal(inverter.eepromWrites.get(0xe20a), 1, 'one EEPROM write in the device');
  assert.equal(w.writesToday(), 1);
  await assert.rejects(w.write('MaxChargeCurrent', 250), (e: unknown) => e instanceof SettingRefused && e.reason === 'range');
  await assert.rejects(w.write('Soc', 50), (e: unknown) => e instanceof SettingRefused && e.reason === 'unknown');
});

test('the daily budget is persisted across a restart and enforced: alarm once, then read-only until the next day', async (t) => {
  const { clock, writer, exceeded, inverter } = await setup(t);
  const a = writer(3);
  await a.write('MaxAcChargeCurrent', 10);
  await a.write('MaxAcChargeCurrent', 11);
  // A restart: a new writer on the same file.
  const b = writer(3);
  assert.equal(b.writesToday(), 2);
  await b.write('MaxAcChargeCurrent', 12);
  assert.equal(b.readOnly(), true);
  await assert.rejects(b.write('MaxAcChargeCurrent', 13), (e: unknown) => e instanceof SettingRefused && e.reason === 'budget');
  await assert.rejects(b.write('SocSwitchToGrid', 30), (e: unknown) => e instanceof SettingRefused && e.reason === 'budget');
  assert.equal(exceeded.length, 1, 'one alarm per device and day');
  assert.equal(exceeded[0]?.device, 'ess0');
  assert.equal(inverter.eepromWrites.get(0xe205), 3, 'nothing reached the device past the budget');
  clock.advance(24 * 3_600_000);
  assert.equal((await b.write('MaxAcChargeCurrent', 13)).written, true, 'a new local day, a new budget');
});

test('mode changes keep their minimum dwell', async (t) => {
  const { clock, writer } = await setup(t);
  const w = writer(20);
  await w.write('OutputPriority', 1);
  clock.advance(60_000);
  await assert.rejects(w.write('OutputPriority', 2), (e: unknown) => e instanceof SettingRefused && e.reason === 'dwell');
  clock.advance(15 * 60_000);
  assert.equal((await w.write('OutputPriority', 2)).written, true);
});

test('a read-back that differs is an error naming the register and both values', async (t) => {
  const { writer, inverter } = await setup(t);
  const w = writer(20);
  inverter.ignoreWrites = true;
  await assert.rejects(w.write('ChargerPriority', 3), (e: unknown) => {
    assert.ok(e instanceof SettingMismatch);
    assert.equal(e.register, 0xe20f);
    assert.equal(e.wrote, 3);
    assert.equal(e.readBack, 2);
    assert.match(e.message, /ChargerPriority = 3 to register 0xE20F but read back 2/);
    return true;
  });
});
