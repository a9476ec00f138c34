import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, statfsSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { startSystem, type RunningSystem } from '../src/system.js';
import { openDatabase, type StoreDb } from '../src/store/database.js';
import { readingTimes } from '../src/store/reading-rows.js';
import { fillUp, mountTmpfs } from './helpers/tmpfs.js';

const PASSWORD = 'first start on a full disk';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const storedReadings = (db: StoreDb): number =>
  db
    .prepare<[], number>('SELECT id FROM meters')
    .pluck()
    .all()
    .reduce((n, id) => n + readingTimes(db, id).length, 0);

async function login(sys: RunningSystem): Promise<Response> {
  return fetch(`${sys.url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: PASSWORD }),
  });
}

test('a first start with 0 bytes free runs from memory, serves the UI, alarms, holds readings and writes them once the disk has room', async (t) => {
  // A real full filesystem: a 4 MB tmpfs filled to the last byte (needs root; skipped elsewhere unless CI).
  const dir = mountTmpfs(t, 4, 'mgos-full-first-');
  if (dir === null) return;
  const filler = path.join(dir, 'filler');
  fillUp(filler);
  assert.equal(statfsSync(dir).bavail, 0, 'not a byte free');
  const dbPath = path.join(dir, 'data', 'mgos.db');
  const config = {
    site: { id: 'full', name: 'Full disk', timezone: 'Africa/Kampala' },
    poll: { intervalMs: 1000 },
    storage: { path: dbPath, flushIntervalMs: 1000 },
    http: { host: '127.0.0.1', port: 0 },
    sim: { enabled: true, seed: 1, customers: 2, port: 0, backfillDays: 7 },
  };
  const options = { config, adminPassword: PASSWORD, logger: pino({ level: 'silent' }) };

  const sys = await startSystem(options);
  let closed = false;
  t.after(async () => {
    if (!closed) await sys.close();
  });
  assert.equal(sys.storage.onDisk, false);
  assert.equal((await fetch(`${sys.url}/`)).status, 200, 'the UI answers');
  assert.equal((await login(sys)).status, 200, 'the admin can sign in');
  const alarm = sys.alarms.store.list({ state: 'open' }).find((a) => a.rule === 'store_in_memory');
  assert.ok(alarm, 'the store_in_memory alarm is open');
  assert.match(alarm.message, new RegExp(`data disk of ${path.join(dir, 'data')} is full`));
  assert.match(alarm.message, /Free space on that disk/);

  // Readings wait in the bounded buffer; the memory store holds no backfill and none of them.
  for (let i = 0; i < 50 && sys.recorder.writer.pendingCount === 0; i++) await sleep(100);
  await sleep(1500); // several flush intervals: they must not empty the buffer
  const held = sys.recorder.writer.pendingCount;
  assert.ok(held > 0 && held <= sys.recorder.writer.maxPending, `held ${held}`);
  assert.equal(storedReadings(sys.db), 0, 'no reading (nor simulated history) in the memory store');
  assert.equal(existsSync(dbPath), false, 'no file was left half made');

  // Room again: the watcher notices; closing writes the store, readings and account included, to the file.
  rmSync(filler);
  const late = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('room on disk not noticed within 10 s')), 10_000).unref());
  await Promise.race([sys.storage.roomOnDisk, late]);
  await sys.close();
  closed = true;
  const file = openDatabase(dbPath);
  const onDisk = storedReadings(file);
  file.close();
  assert.ok(onDisk >= held, `${onDisk} readings on disk, ${held} were held`);

  // The next start runs on the file with the same account; the alarm is cleared.
  const again = await startSystem(options);
  t.after(() => again.close());
  assert.equal(again.storage.onDisk, true);
  assert.equal((await login(again)).status, 200, 'the same password signs in');
  assert.equal(
    again.alarms.store.list({ state: 'open' }).find((a) => a.rule === 'store_in_memory'),
    undefined,
  );
});
