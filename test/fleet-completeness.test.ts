import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fleetView } from '../src/fleet/routes.js';
import { completenessShare, completenessSince } from '../src/fleet/completeness.js';
import { loadProfiles } from '../src/drivers/profiles.js';
import { Recorder } from '../src/recorder/recorder.js';
import { recordSimulatedHistory } from '../src/recorder/simulated-history.js';
import { SiteRuntime } from '../src/site/site-runtime.js';
import { ReadingWriter } from '../src/store/reading-writer.js';
import { meterIdOf } from '../src/store/registry.js';
import { startSimSite } from './helpers/site.js';
import { tempDb } from './helpers/temp-db.js';

/** Fixed dates: nothing here depends on today. */
const T0 = Date.UTC(2026, 3, 4, 12, 0, 0);
const HOUR = 3_600_000;

test('fleet: healthy meters with a day of backfilled minute history and an hour of live 10 s polls are ~100 % complete', async (t) => {
  let now = T0;
  const clock = (): number => now;
  // The simulator's model starts 23 h back, so the history can be recorded the way a demo's first start does.
  const s = await startSimSite({ customers: 3, timeoutMs: 100, sim: { clock, startMs: T0 - 23 * HOUR } });
  const db = tempDb(t);
  const profiles = loadProfiles();
  const recorder = new Recorder(db, { flushIntervalMs: 0, rawRetentionDays: 90, now: clock });
  const site = new SiteRuntime(s.config, profiles, recorder, clock);
  t.after(async () => {
    await site.stop();
    await s.close();
  });
  recordSimulatedHistory(s.sim, s.config, profiles, recorder, T0);
  const poller = site.pollers()[0];
  assert.ok(poller);
  for (let i = 0; i < 360; i++) {
    await poller.runCycle();
    now += 10_000;
    if (i % 30 === 0) recorder.flushAndBuild();
  }
  recorder.flushAndBuild();
  const view = fleetView({ site, db, openAlarms: () => 0, inventory: () => [], now: clock });
  const meters = view.sites[0]?.meters ?? [];
  assert.equal(meters.length, 4);
  for (const m of meters) assert.ok(m.completeness >= 0.99, `${m.key}: ${m.completeness}`);
});

test('completeness measures each span against its own cadence: a gap in live polling counts in 10 s steps, minute history in minutes', (t) => {
  const db = tempDb(t);
  const w = new ReadingWriter(db);
  const from = T0 - 24 * HOUR;
  const add = (ts: number): void => w.add({ meter: 'meter2', ts, values: { ActivePower: 1 } });
  // An older reading: the window's first span starts at the window's start.
  add(from - 60_000);
  for (let ts = from; ts < T0 - HOUR; ts += 60_000) add(ts); // 23 h of minute history: 1380 readings
  // One hour of live polls at 10 s with 30 minutes missing in the middle (180 polls).
  for (let ts = T0 - HOUR; ts < T0; ts += 10_000) if (ts < T0 - 45 * 60_000 || ts >= T0 - 15 * 60_000) add(ts);
  w.flush();
  const id = meterIdOf(db, 'meter2');
  assert.ok(id !== undefined);
  const c = completenessSince(db, id, from / 1000, 10_000);
  assert.equal(c.stored, 1380 + 180);
  assert.equal(c.missing, 180, 'exactly the 30 minutes of missing polls; the minute history misses nothing');
  assert.equal(completenessShare(c, T0, 10_000, 40_000), 1560 / 1740);
  // Nothing stored for 10 minutes beyond the flush grace after the last poll (T0 - 10 s): 60 more are missing.
  assert.equal(completenessShare(c, T0 - 10_000 + 40_000 + 10 * 60_000, 10_000, 40_000), 1560 / 1800);
  // A meter answering only every 80 s is not mistaken for minute history.
  for (let ts = T0; ts < T0 + HOUR; ts += 80_000) w.add({ meter: 'meter3', ts, values: { ActivePower: 1 } });
  w.flush();
  const sparse = completenessSince(db, meterIdOf(db, 'meter3') ?? -1, T0 / 1000, 10_000);
  assert.equal(sparse.stored, 45);
  assert.equal(sparse.missing, 44 * 7);
});
