import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threadId } from 'node:worker_threads';
import { ReadingWriter } from '../src/store/reading-writer.js';
import { HistoryPool, QueryBusyError } from '../src/store/history-pool.js';
import { tempDb } from './helpers/temp-db.js';

const T0 = Date.UTC(2026, 3, 4, 9, 0, 0);

test('the query worker answers from its own read-only connection what the recorder wrote', async (t) => {
  const db = tempDb(t);
  const w = new ReadingWriter(db);
  for (let i = 0; i < 30; i++) w.add({ meter: 'meter2', ts: T0 + i * 10_000, values: { ActivePower: 100 + i } });
  w.flush();
  const pool = new HistoryPool(db.name);
  t.after(() => pool.close());
  const raw = JSON.parse(await pool.run('raw', 'meter2', 'ActivePower', 'W', T0, T0 + 300_000)) as { unit: string; points: [number, number][] };
  assert.equal(raw.unit, 'W');
  assert.equal(raw.points.length, 30);
  assert.deepEqual(raw.points[29], [T0 + 290_000, 129]);
  // Written after the worker opened its connection: still seen (WAL readers see every commit).
  w.add({ meter: 'meter2', ts: T0 + 300_000, values: { ActivePower: 7 } });
  w.flush();
  const again = JSON.parse(await pool.run('raw', 'meter2', 'ActivePower', 'W', T0, T0 + 400_000)) as { points: [number, number][] };
  assert.equal(again.points.length, 31);
  const csv = await pool.run('csv', 'readings', 'meter2', '2026-04-04', 'Africa/Kampala', 2);
  assert.equal(csv.trim().split('\n').length, 32, 'header and 31 rows');
  assert.equal(threadId, 0, 'the test itself runs on the main thread; the queries ran elsewhere');
});

test('the queue is bounded: past it a query is refused at once with a retryable error, and the worker still answers', async (t) => {
  const db = tempDb(t);
  const pool = new HistoryPool(db.name, 2);
  t.after(() => pool.close());
  const first = pool.run('intervals', 'meter9', 0, 1);
  const second = pool.run('intervals', 'meter9', 0, 1);
  await assert.rejects(pool.run('intervals', 'meter9', 0, 1), (e: unknown) => e instanceof QueryBusyError && /busy \(2 queries waiting\)/.test(e.message));
  assert.deepEqual(JSON.parse(await first), { intervals: [] });
  assert.deepEqual(JSON.parse(await second), { intervals: [] });
  assert.deepEqual(JSON.parse(await pool.run('daily', 'meter9', 0, 86_400_000, 'UTC')), { days: [] });
});

test('a closed pool refuses new queries and fails none silently', async (t) => {
  const db = tempDb(t);
  const pool = new HistoryPool(db.name);
  const pending = assert.rejects(pool.run('intervals', 'meter9', 0, 1), /stopped/);
  await pool.close();
  await pending;
  await assert.rejects(pool.run('intervals', 'meter9', 0, 1), /shutting down/);
});
