import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { QUERY_NICE } from '../src/store/history-worker.js';
import { kernelThreadId, threadNice } from '../src/util/thread-priority.js';
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

test('the worker answers compressed in the encoding asked for (br, gzip), plain when small or not asked, and the bytes decode to the same text', async (t) => {
  const db = tempDb(t);
  const w = new ReadingWriter(db);
  for (let i = 0; i < 500; i++) w.add({ meter: 'meter2', ts: T0 + i * 10_000, values: { ActivePower: 100 + (i % 7) } });
  w.flush();
  const pool = new HistoryPool(db.name);
  t.after(() => pool.close());
  const args = ['meter2', 'ActivePower', 'W', T0, T0 + 5_000_000] as const;
  const text = await pool.run('raw', ...args);
  assert.ok(text.length > 5000);
  const br = await pool.runEncoded('br', 'raw', ...args);
  assert.equal(br.encoding, 'br');
  assert.equal(brotliDecompressSync(br.body).toString('utf8'), text);
  assert.ok(br.body.length < text.length / 3, `compressed ${br.body.length} of ${text.length} bytes`);
  const gz = await pool.runEncoded('gzip', 'raw', ...args);
  assert.equal(gz.encoding, 'gzip');
  assert.equal(gunzipSync(gz.body).toString('utf8'), text);
  const plain = await pool.runEncoded('identity', 'raw', ...args);
  assert.deepEqual(plain, { body: Buffer.from(text), encoding: 'identity' });
  // Under the server's 1 KB threshold compression is not worth it.
  assert.deepEqual(await pool.runEncoded('br', 'intervals', 'meter9', 0, 1), { body: Buffer.from('{"intervals":[]}'), encoding: 'identity' });
});

test(
  'the query worker runs at a lower CPU priority than the thread that polls the bus (Linux)',
  { skip: kernelThreadId() === null && 'no /proc/thread-self' },
  async (t) => {
    const db = tempDb(t);
    const pool = new HistoryPool(db.name);
    t.after(() => pool.close());
    const before = new Set(readdirSync('/proc/self/task'));
    await pool.run('intervals', 'meter9', 0, 1);
    const started = readdirSync('/proc/self/task').filter((tid) => !before.has(tid));
    const mine = threadNice(kernelThreadId() ?? 0) ?? 0;
    const expected = Math.min(19, mine + QUERY_NICE);
    const nices = started.map((tid) => threadNice(Number(tid)));
    assert.ok(nices.includes(expected), `a new thread at nice ${expected}; new threads' nice: ${JSON.stringify(nices)}`);
    assert.equal(threadNice(kernelThreadId() ?? 0), mine, 'this (the polling) thread keeps its priority');
  },
);
