import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statfsSync, statSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { startSystem } from '../src/system.js';
import { reservePath } from '../src/store/disk-reserve.js';
import { fillUp, mountTmpfs } from './helpers/tmpfs.js';

const PASSWORD = 'restart on a full disk';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('a restart with 0 bytes free opens the store in the space of its reserve, serves the UI and raises the disk alarm', async (t) => {
  // A real full filesystem: an 8 MB tmpfs (needs root; skipped elsewhere unless CI).
  const dir = mountTmpfs(t, 8, 'mgos-full-restart-');
  if (dir === null) return;
  const dbPath = path.join(dir, 'data', 'mgos.db');
  const options = {
    config: {
      site: { id: 'full', name: 'Full disk', timezone: 'Africa/Kampala' },
      poll: { intervalMs: 1000 },
      storage: { path: dbPath, flushIntervalMs: 1000 },
      http: { host: '127.0.0.1', port: 0 },
      sim: { enabled: true, seed: 1, customers: 2, port: 0 },
    },
    adminPassword: PASSWORD,
    logger: pino({ level: 'silent' }),
  };
  // A site that ran before: it keeps a reserve of 2 % of the disk beside its store.
  await (await startSystem(options)).close();
  assert.equal(statSync(reservePath(dbPath)).size, 163_840);

  fillUp(path.join(dir, 'filler'));
  assert.equal(statfsSync(dir).bavail, 0, 'not a byte free');
  const sys = await startSystem(options);
  t.after(() => sys.close());
  assert.equal(sys.storage.onDisk, true);
  assert.equal(existsSync(reservePath(dbPath)), false, 'the reserve was given back');
  assert.equal((await fetch(`${sys.url}/`)).status, 200, 'the UI answers');
  const login = await fetch(`${sys.url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: PASSWORD }),
  });
  assert.equal(login.status, 200, 'the account stored before signs in');
  let disk;
  for (let i = 0; i < 50 && !disk; i++) {
    disk = sys.alarms.store.list({ state: 'open' }).find((a) => a.rule === 'disk_free');
    if (!disk) await sleep(100);
  }
  assert.ok(disk, 'the disk_free alarm is open');
  assert.match(disk.message, new RegExp(`on the filesystem of ${path.join(dir, 'data')}`));
});
