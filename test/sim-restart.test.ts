import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { siteConfigSchema } from '../src/config/site-config.js';
import { loadProfiles } from '../src/drivers/profiles.js';
import { Recorder } from '../src/recorder/recorder.js';
import { meterPowerLimits } from '../src/recorder/meter-limits.js';
import { startEmbeddedSimulator } from '../src/site/embedded-simulator.js';
import { openDatabase } from '../src/store/database.js';
import { counterReading } from '../src/store/counter-reading.js';
import { buildIntervals } from '../src/store/intervals.js';
import { listQuarantined } from '../src/store/quarantine.js';
import { meterIdOf } from '../src/store/registry.js';
import { manualClock } from '../src/util/clock.js';

const T0 = Date.parse('2026-03-02T10:00:00+03:00');

test('the simulator restarted on the same database continues its counters: no step, nothing quarantined', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-sim-restart-'));
  const db = openDatabase(path.join(dir, 'mgos.db'));
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const config = siteConfigSchema.parse({
    site: { id: 'demo', name: 'Demo', timezone: 'Africa/Kampala' },
    storage: { path: path.join(dir, 'mgos.db') },
    sim: { enabled: true, seed: 1, customers: 4, port: 0, backfillDays: 0.25 },
  });
  const profiles = loadProfiles();
  const clock = manualClock(T0);
  const log = pino({ level: 'silent' });
  let meters = config.meters;
  const recorder = new Recorder(db, { flushIntervalMs: 0, rawRetentionDays: 90, now: clock, maxPowerWFor: meterPowerLimits(() => meters, profiles) });

  const first = await startEmbeddedSimulator(config, { recorder, profiles, log, clock });
  meters = first.config.meters;
  await first.sim.close();
  const stored = new Map(meters.map((m) => [m.id, counterReading(db, meterIdOf(db, `meter${m.id}`) as number, 'EnergyImport', T0)?.value]));
  assert.equal(stored.size, 5);

  // An hour later the demo starts again on the same file.
  clock.advance(3600_000);
  const second = await startEmbeddedSimulator(config, { recorder, profiles, log, clock });
  t.after(() => second.sim.close());
  second.sim.model.advanceTo(clock());
  for (const m of meters) {
    const now = second.sim.model.meterValues(m.id)?.EnergyImport as number;
    const before = stored.get(m.id) as number;
    assert.ok(now >= before - 0.01 && now - before < 0.01, `meter${m.id}: stored ${before} kWh, the restarted simulator shows ${now} kWh`);
  }
  // What it shows from now on is recorded and builds intervals with no quarantine.
  for (let i = 1; i <= 30; i++) {
    clock.advance(60_000);
    second.sim.model.advanceTo(clock());
    for (const m of meters) recorder.writer.add({ meter: `meter${m.id}`, ts: clock(), values: { ...second.sim.model.meterValues(m.id) } });
  }
  recorder.writer.flush();
  while (buildIntervals(db, clock(), recorder.buildOptions) > 0);
  assert.deepEqual(listQuarantined(db), []);
});
