import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { startSystem } from '../src/system.js';
import { openDatabase } from '../src/store/database.js';
import { UserStore } from '../src/auth/user-store.js';
import { systemClock } from '../src/util/clock.js';
import { readingTimes } from '../src/store/reading-rows.js';
import { mountTmpfs } from './helpers/tmpfs.js';

const PASSWORD = 'full disk password';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const free = (dir: string): number => {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
};

/** Writes zeros into `file` until the filesystem has at most `leave` bytes free (or is full). */
function fill(file: string, leave: number): void {
  const fd = openSync(file, 'a');
  try {
    const block = Buffer.alloc(64 * 1024);
    for (let want = free(path.dirname(file)) - leave; want > 0; want -= block.length) {
      try {
        writeSync(fd, block, 0, Math.min(block.length, want));
      } catch {
        break; // ENOSPC: full
      }
    }
  } finally {
    closeSync(fd);
  }
}

test('on a nearly full disk the system starts, serves the UI, raises the disk alarm and skips the backfill; once space is freed it records again', async (t) => {
  // A real small filesystem: a 3 MB tmpfs (needs root; skipped elsewhere unless CI).
  const dir = mountTmpfs(t, 3, 'mgos-full-');
  if (dir === null) return;
  const dbPath = path.join(dir, 'data', 'mgos.db');
  mkdirSync(path.dirname(dbPath));
  // Already stored: a site that ran before (every table, the admin account), without readings yet.
  const base = {
    site: { id: 'full', name: 'Full disk', timezone: 'Africa/Kampala' },
    poll: { intervalMs: 1000 },
    storage: { path: dbPath, flushIntervalMs: 1000 },
    http: { host: '127.0.0.1', port: 0 },
  };
  await (await startSystem({ config: base, adminPassword: PASSWORD, logger: pino({ level: 'silent' }) })).close();
  {
    const db = openDatabase(dbPath);
    assert.equal(await new UserStore(db, systemClock).ensureAdmin(PASSWORD), null, 'the admin exists');
    db.close();
  }
  // Space is short: 7 days of 5 simulated meters (~10,000 readings) would need far more than is left.
  const filler = path.join(dir, 'filler');
  fill(filler, 320 * 1024);
  const startedAt = systemClock();
  const warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(w.message);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const sys = await startSystem({
    config: {
      ...base,
      sim: { enabled: true, seed: 1, customers: 4, port: 0, backfillDays: 7 },
    },
    adminPassword: PASSWORD,
    logger: pino({ level: 'silent' }),
  });
  t.after(() => sys.close());

  // The UI's API answers, with the account stored before.
  const login = await fetch(`${sys.url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: PASSWORD }),
  });
  assert.equal(login.status, 200);
  const { token } = (await login.json()) as { token: string };
  const site = await fetch(`${sys.url}/api/site`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(site.status, 200);
  // The disk alarm is open (the periodic rules run at start).
  let disk;
  for (let i = 0; i < 50 && !disk; i++) {
    disk = sys.alarms.store.list({ state: 'open' }).find((a) => a.rule === 'disk_free');
    if (!disk) await sleep(100);
  }
  assert.ok(disk, 'the disk_free alarm is open');
  // No history was recorded: nothing older than the start.
  assert.ok(
    warnings.some((w) => /simulated history skipped/.test(w)),
    `warned: ${warnings.join(' | ')}`,
  );
  const meterIds = sys.db.prepare<[], number>('SELECT id FROM meters').pluck().all();
  for (const id of meterIds) assert.deepEqual(readingTimes(sys.db, id, { toS: Math.floor(startedAt / 1000) - 60 }), [], 'no backfilled reading');

  // The disk fills up completely: flushes fail, the system goes on, readings wait in memory.
  fill(path.join(dir, 'filler2'), 0);
  await sleep(3000);
  const count = (): number =>
    sys.db
      .prepare<[], number>('SELECT id FROM meters')
      .pluck()
      .all()
      .reduce((s, id) => s + readingTimes(sys.db, id).length, 0);
  const whileFull = count();
  assert.ok((await fetch(`${sys.url}/api/site`, { headers: { authorization: `Bearer ${token}` } })).ok, 'still serving while full');
  // Space freed: the next flush writes what waited.
  rmSync(path.join(dir, 'filler2'));
  rmSync(filler);
  const pending = sys.recorder.writer.pendingCount;
  await sleep(3000);
  assert.ok(count() > whileFull, `recording resumed: ${whileFull} -> ${count()} readings (${pending} were waiting)`);
  assert.equal(sys.db.pragma('integrity_check', { simple: true }), 'ok');
});
