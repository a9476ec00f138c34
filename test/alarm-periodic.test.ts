import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startAlarms } from '../src/alarms/engine.js';
import type { DiskSpace } from '../src/alarms/rules/disk-free.js';
import { loadProfiles } from '../src/drivers/profiles.js';
import { Recorder } from '../src/recorder/recorder.js';
import { recordSimulatedHistory } from '../src/recorder/simulated-history.js';
import { SiteRuntime } from '../src/site/site-runtime.js';
import { dailyEnergy } from '../src/store/history.js';
import { ZonedClock } from '../src/store/zoned-clock.js';
import { startSimSite } from './helpers/site.js';
import { tempDb } from './helpers/temp-db.js';

const TZ = 'Africa/Kampala';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('energy balance: an unmetered load on the main meter over a local day raises with both numbers; a clean day clears', async (t) => {
  const clock = new ZonedClock(TZ);
  const [dayStart, dayEnd] = clock.dayRange('2026-03-10');
  let now = dayEnd + 2 * 60_000;
  const s = await startSimSite({ customers: 3, sim: { clock: () => now, startMs: dayStart } });
  const db = tempDb(t);
  const config = { ...s.config, site: { ...s.config.site, timezone: TZ } };
  const recorder = new Recorder(db, { flushIntervalMs: 0, rawRetentionDays: 90, now: () => now });
  const alarms = startAlarms({ db, site: s.site, config, now: () => now, periodicMs: 0, diskProbe: () => Promise.resolve({ freeBytes: 50, totalBytes: 100 }) });
  t.after(async () => {
    await alarms.stop();
    await s.close();
  });
  s.sim.model.addUnmeteredLoad('L1', 400); // a bypassed meter, 9.6 kWh a day
  recordSimulatedHistory(s.sim, config, loadProfiles(), recorder, now);
  await alarms.evaluateNow();
  assert.equal(alarms.store.findOpen('energy_balance', 'site'), undefined, 'the day is not judged before its last interval is built');

  now = dayEnd + 30 * 60_000;
  recordSimulatedHistory(s.sim, config, loadProfiles(), recorder, now);
  await alarms.evaluateNow();
  const a = alarms.store.findOpen('energy_balance', 'site');
  assert.ok(a, 'raised');
  const net = (key: string): number => dailyEnergy(db, key, dayStart, dayEnd, TZ).reduce((sum, d) => sum + d.importKWh - d.exportKWh, 0);
  const main = net('meter100');
  const customers = net('meter2') + net('meter3') + net('meter4');
  const share = (main - customers) / main;
  assert.ok(share > 0.1, `unaccounted share ${share}`);
  assert.ok(a.message.startsWith('2026-03-10: '), a.message);
  assert.ok(a.message.includes(`main meter ${main.toFixed(2)} kWh, customer meters ${customers.toFixed(2)} kWh`), a.message);
  assert.ok(a.message.includes(`= ${(share * 100).toFixed(1)} %`), a.message);

  s.sim.model.addUnmeteredLoad('L1', -400);
  now = dayEnd + 86_400_000 + 30 * 60_000;
  recordSimulatedHistory(s.sim, config, loadProfiles(), recorder, now);
  await alarms.evaluateNow();
  assert.equal(alarms.store.get(a.id)?.state, 'cleared', 'the next day only has feeder losses');
  assert.match(alarms.store.events(a.id).at(-1)?.message ?? '', /^2026-03-11: main meter/);
});

test('not logging: a meter that answers but whose readings are not stored is flagged apart from offline', async (t) => {
  let offset = 0;
  const now = (): number => Date.now() + offset;
  const s = await startSimSite({ customers: 2, timeoutMs: 100 });
  const db = tempDb(t);
  const recorder = new Recorder(db, { flushIntervalMs: 0, rawRetentionDays: 90, now });
  const site = new SiteRuntime(s.config, loadProfiles(), recorder, now);
  const alarms = startAlarms({ db, site, config: s.config, now, periodicMs: 0, diskProbe: () => Promise.resolve({ freeBytes: 50, totalBytes: 100 }) });
  t.after(async () => {
    await alarms.stop();
    await site.stop();
    await s.close();
  });
  const poller = site.pollers()[0];
  assert.ok(poller);
  await poller.runCycle();
  recorder.flushAndBuild();
  await alarms.evaluateNow();
  assert.equal(alarms.store.list().length, 0);

  offset += 16 * 60_000; // the recorder fails to write for 16 minutes while polling goes on
  await poller.runCycle();
  await alarms.evaluateNow();
  const open = alarms.store.list();
  assert.deepEqual(open.map((a) => `${a.rule}:${a.subject}`).sort(), ['not_logging:meter100', 'not_logging:meter2', 'not_logging:meter3']);
  assert.match(open[0]?.message ?? '', /last stored reading 16 min ago \(limit 15 min\)/);

  recorder.flushAndBuild();
  await alarms.evaluateNow();
  assert.equal(alarms.store.list().length, 0, 'stored again: cleared');
});

test('disk free: the injected probe under 15 % raises, under 5 % escalates, above clears; a failing probe changes nothing', async (t) => {
  let space: DiskSpace = { freeBytes: 10, totalBytes: 100 };
  let probed = '';
  let failing = false;
  const errors: string[] = [];
  const s = await startSimSite({ customers: 1 });
  const db = tempDb(t);
  const alarms = startAlarms({
    db,
    site: s.site,
    config: s.config,
    periodicMs: 0,
    diskProbe: (p) => {
      probed = p;
      return failing ? Promise.reject(new Error('EIO')) : Promise.resolve(space);
    },
    onError: (what) => errors.push(what),
  });
  t.after(async () => {
    await alarms.stop();
    await s.close();
  });
  await alarms.evaluateNow();
  assert.equal(probed, path.dirname(db.name), 'the filesystem of the database');
  const a = alarms.store.findOpen('disk_free', 'site');
  assert.ok(a && a.severity === 'major' && /10.0 % free/.test(a.message), a?.message);
  space = { freeBytes: 4, totalBytes: 100 };
  await alarms.evaluateNow();
  assert.equal(alarms.store.get(a.id)?.severity, 'critical');
  failing = true;
  await alarms.evaluateNow();
  assert.equal(alarms.store.get(a.id)?.state, 'open');
  assert.ok(errors.some((e) => e.startsWith('disk probe')));
  failing = false;
  space = { freeBytes: 50, totalBytes: 100 };
  await alarms.evaluateNow();
  assert.deepEqual(
    alarms.store.events(a.id).map((e) => e.kind),
    ['raised', 'updated', 'cleared'],
  );
});

test('the periodic rules also run by themselves on their timer', async (t) => {
  const s = await startSimSite({ customers: 1 });
  const alarms = startAlarms({
    db: tempDb(t),
    site: s.site,
    config: s.config,
    periodicMs: 20,
    diskProbe: () => Promise.resolve({ freeBytes: 1, totalBytes: 100 }),
  });
  t.after(async () => {
    await alarms.stop();
    await s.close();
  });
  for (let i = 0; i < 100 && !alarms.store.findOpen('disk_free', 'site'); i++) await sleep(10);
  assert.ok(alarms.store.findOpen('disk_free', 'site'));
});

test('alarms of a meter removed from the site are cleared, with the reason', async (t) => {
  const s = await startSimSite({ customers: 2 });
  const alarms = startAlarms({
    db: tempDb(t),
    site: s.site,
    config: s.config,
    periodicMs: 0,
    diskProbe: () => Promise.resolve({ freeBytes: 50, totalBytes: 100 }),
  });
  t.after(async () => {
    await alarms.stop();
    await s.close();
  });
  const a = alarms.reportStatusCode('meter3', 1006).alarm;
  assert.ok(a);
  s.site.removeMeter('meter3');
  await alarms.evaluateNow();
  assert.equal(alarms.store.get(a.id)?.state, 'cleared');
  assert.equal(alarms.store.events(a.id).at(-1)?.message, 'meter3 was removed from the site');
});
