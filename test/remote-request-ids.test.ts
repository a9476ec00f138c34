import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { RequestIds } from '../src/remote/request-ids.js';
import { manualClock } from '../src/util/clock.js';

/** Replay protection of remote commands on a real SQLite file with a manual clock (fixed dates). */
const T0 = Date.UTC(2026, 5, 1, 8, 0, 0);
const SKEW = 60_000;

function open(t: { after(fn: () => void): void }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-ids-'));
  const file = path.join(dir, 'ids.db');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return file;
}

test('a taken id is refused, also after reopening the file; issuedAt outside the window is refused either way', (t) => {
  const file = open(t);
  const clock = manualClock(T0);
  let db = new Database(file);
  let ids = new RequestIds(db, { maxSkewMs: SKEW, remember: 100, clock });
  assert.equal(ids.check('a1', T0), null);
  ids.take('a1');
  assert.equal(ids.check('a1', T0)?.field, 'requestId');
  assert.match(ids.check('a2', T0 - SKEW - 1)?.reason ?? '', /^issuedAt: 2026-06-01T07:58:59\.999Z is 60 s old \(at most 60 s\)/);
  assert.match(ids.check('a2', T0 + SKEW + 1000)?.reason ?? '', /61 s ahead/);
  assert.equal(ids.check('a2', T0 + SKEW), null, 'the edge of the window is inside');
  db.close();
  db = new Database(file);
  ids = new RequestIds(db, { maxSkewMs: SKEW, remember: 100, clock });
  assert.equal(ids.check('a1', T0)?.field, 'requestId', 'remembered across a restart');
  db.close();
});

test('ids are forgotten only when the time window alone refuses their copies; a full store refuses instead of forgetting', (t) => {
  const file = open(t);
  const clock = manualClock(T0);
  const db = new Database(file);
  t.after(() => db.close());
  const ids = new RequestIds(db, { maxSkewMs: SKEW, remember: 3, clock });
  for (const id of ['b1', 'b2', 'b3']) {
    assert.equal(ids.check(id, clock()), null);
    ids.take(id);
  }
  const full = ids.check('b4', clock());
  assert.equal(full?.field, 'requestId');
  assert.match(full.reason, /3 commands arrived within 2 minutes/);
  // A copy of b1 issued at T0 passes the time check until T0 + SKEW: b1 is still remembered then.
  clock.set(T0 + SKEW);
  assert.equal(ids.check('b1', T0)?.field, 'requestId');
  // Two windows later b1's copies fail the time check, so it may be forgotten and the store has room.
  clock.set(T0 + 2 * SKEW + 1);
  assert.equal(ids.check('b1', T0)?.field, 'issuedAt');
  assert.equal(ids.check('b4', clock()), null);
});
