import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { openDatabase, schemaVersion, type StoreDb } from '../src/store/database.js';
import { ReadingWriter } from '../src/store/reading-writer.js';
import { latestReading, rawSeries } from '../src/store/history.js';
import { MIGRATIONS } from '../src/store/schema.js';

function tempDb(t: { after: (fn: () => void) => void }): { file: string; open: () => StoreDb } {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'data', 'mgos.db');
  const opened: StoreDb[] = [];
  t.after(() => opened.forEach((db) => db.open && db.close()));
  return {
    file,
    open: () => {
      const db = openDatabase(file);
      opened.push(db);
      return db;
    },
  };
}

const T0 = Date.UTC(2026, 3, 4, 12, 15, 0);
const count = (db: StoreDb): number => (db.prepare('SELECT count(*) AS n FROM readings').get() as { n: number }).n;

test('a new file is in WAL mode at the latest schema version; reopening migrates nothing', (t) => {
  const { open } = tempDb(t);
  const db = open();
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('synchronous', { simple: true }), 1); // NORMAL
  assert.equal(schemaVersion(db), MIGRATIONS.length);
  db.close();
  assert.equal(schemaVersion(open()), MIGRATIONS.length);
});

test('a file from a newer mgos is refused rather than misread', (t) => {
  const { file, open } = tempDb(t);
  const db = open();
  db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
  db.close();
  assert.throws(() => openDatabase(file), /newer than this mgos/);
});

test('readings round-trip: float32 values read back tidy, counters keep full float64 resolution, missing channels stay missing', (t) => {
  const db = tempDb(t).open();
  const w = new ReadingWriter(db);
  w.add({ meter: 'meter10', ts: T0, values: { Voltage_L1: 234.5, Current_L1: 2.1, ActivePower: 490, EnergyImport: 999999.99, EnergyExport: 0.01 } });
  // Energy is read every 6th poll: this row has no counters, and a NaN that must come back as missing.
  w.add({ meter: 'meter10', ts: T0 + 10_000, values: { Voltage_L1: 233.9, Current_L1: NaN, ActivePower: -12.5 } });
  w.add({ meter: 'meter11', ts: T0, values: { Voltage_L1: 230, Frequency: 50.01 } });
  assert.deepEqual(w.flush(), { written: 3, ignored: 0 });

  assert.deepEqual(rawSeries(db, 'meter10', 'ActivePower', T0, T0 + 20_000), [
    [T0, 490],
    [T0 + 10_000, -12.5],
  ]);
  assert.deepEqual(rawSeries(db, 'meter10', 'Current_L1', T0, T0 + 20_000), [[T0, 2.1]]);
  assert.deepEqual(rawSeries(db, 'meter10', 'EnergyImport', T0, T0 + 20_000), [[T0, 999999.99]]);
  assert.deepEqual(rawSeries(db, 'meter10', 'ActivePower', T0 + 1, T0 + 10_000), [], 'range is [from, to)');
  assert.deepEqual(latestReading(db, 'meter10'), { ts: T0 + 10_000, values: { Voltage_L1: 233.9, ActivePower: -12.5 } });
  assert.deepEqual(latestReading(db, 'meter11'), { ts: T0, values: { Voltage_L1: 230, Frequency: 50.01 } });
  assert.equal(latestReading(db, 'nobody'), undefined);
  // Both meter10 rows share one layout (the second padded with NaN); meter11 has its own.
  assert.equal((db.prepare('SELECT count(DISTINCT layout_id) AS n FROM readings').get() as { n: number }).n, 2);
  const blob = db.prepare("SELECT vals FROM readings WHERE ts = ? AND meter_id = (SELECT id FROM meters WHERE key = 'meter10')").get(T0 / 1000) as {
    vals: Buffer;
  };
  assert.equal(blob.vals.length, 3 * 4 + 2 * 8, 'three float32 channels and two float64 counters');
});

test('a duplicate (meter, second) is ignored, within a batch and across batches', (t) => {
  const db = tempDb(t).open();
  const w = new ReadingWriter(db);
  w.add({ meter: 'm', ts: T0, values: { ActivePower: 1 } });
  w.add({ meter: 'm', ts: T0 + 400, values: { ActivePower: 2 } }); // same second
  assert.deepEqual(w.flush(), { written: 1, ignored: 1 });
  w.add({ meter: 'm', ts: T0, values: { ActivePower: 3 } });
  w.add({ meter: 'm', ts: T0 + 10_000, values: {} }); // nothing to store
  assert.deepEqual(w.flush(), { written: 0, ignored: 2 });
  assert.deepEqual(rawSeries(db, 'm', 'ActivePower', 0, T0 + 60_000), [[T0, 1]]);
});

test('a flush is one transaction: a failure part-way writes nothing and keeps the batch for the next try', (t) => {
  const db = tempDb(t).open();
  const w = new ReadingWriter(db);
  let transactions = 0;
  const original = db.transaction.bind(db);
  db.transaction = ((fn: Parameters<typeof original>[0]) => {
    transactions++;
    return original(fn);
  }) as typeof db.transaction;
  for (let i = 0; i < 30; i++) w.add({ meter: `meter${i % 3}`, ts: T0 + Math.floor(i / 3) * 10_000, values: { ActivePower: i } });
  // The disk refuses the journal after the meters were registered in the transaction: the
  // journal's directory cannot be made (a file is in its place).
  writeFileSync(`${db.name}-recent`, 'in the way');
  assert.throws(() => w.flush(), /EEXIST|ENOTDIR/);
  assert.equal((db.prepare('SELECT count(*) AS n FROM meters').get() as { n: number }).n, 0, 'the meters rolled back too');
  assert.equal(count(db), 0, 'no partial write');
  assert.equal(w.pendingCount, 30, 'the batch is kept');
  assert.equal(w.oldestPendingMs(), T0);
  rmSync(`${db.name}-recent`);
  transactions = 0;
  assert.deepEqual(w.flush(), { written: 30, ignored: 0 });
  assert.equal(transactions, 1);
  assert.equal(count(db), 30);
  assert.equal(w.pendingCount, 0);
  assert.equal(w.oldestPendingMs(), undefined);
});

test('the buffer is bounded while flushes keep failing: the oldest readings go first', (t) => {
  const db = tempDb(t).open();
  const w = new ReadingWriter(db, { maxPending: 5 });
  for (let i = 0; i < 8; i++) w.add({ meter: 'm', ts: T0 + i * 10_000, values: { ActivePower: i } });
  assert.equal(w.pendingCount, 5);
  assert.equal(w.dropped, 3);
  w.flush();
  assert.deepEqual(
    rawSeries(db, 'm', 'ActivePower', 0, Infinity).map(([, v]) => v),
    [3, 4, 5, 6, 7],
  );
});

test('closing without a flush loses only the unflushed batch; the file is intact and reopens with every earlier batch', (t) => {
  const { file, open } = tempDb(t);
  const db = open();
  const w = new ReadingWriter(db);
  for (let batch = 0; batch < 3; batch++) {
    for (let m = 0; m < 10; m++) w.add({ meter: `meter${m}`, ts: T0 + batch * 10_000, values: { ActivePower: batch, EnergyImport: 100 + batch } });
    if (batch < 2) w.flush();
  }
  db.close(); // "crash": batch 2 never flushed
  const again = openDatabase(file);
  t.after(() => again.close());
  assert.equal(again.pragma('integrity_check', { simple: true }), 'ok');
  assert.equal(count(again), 20);
  assert.deepEqual(rawSeries(again, 'meter9', 'EnergyImport', 0, Infinity), [
    [T0, 100],
    [T0 + 10_000, 101],
  ]);
  // The writer carries on after a restart with the meter's stored layout.
  const w2 = new ReadingWriter(again);
  w2.add({ meter: 'meter9', ts: T0 + 20_000, values: { ActivePower: 7 } });
  w2.flush();
  assert.equal((again.prepare('SELECT count(*) AS n FROM layouts').get() as { n: number }).n, 1);
});

test('a process killed (SIGKILL) after two flushes leaves a valid file with both batches', (t) => {
  const { file } = tempDb(t);
  const here = path.dirname(fileURLToPath(import.meta.url));
  const url = (rel: string): string => pathToFileURL(path.join(here, rel)).href;
  const script = `
    const { openDatabase } = await import(${JSON.stringify(url('../src/store/database.js'))});
    const { ReadingWriter } = await import(${JSON.stringify(url('../src/store/reading-writer.js'))});
    const db = openDatabase(${JSON.stringify(file)});
    const w = new ReadingWriter(db);
    for (let b = 0; b < 3; b++) {
      for (let m = 0; m < 50; m++) w.add({ meter: 'meter' + m, ts: ${T0} + b * 10000, values: { ActivePower: b, Voltage_L1: 230 } });
      if (b < 2) w.flush();
    }
    process.kill(process.pid, 'SIGKILL');
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.signal, 'SIGKILL', r.stderr);
  const db = openDatabase(file);
  t.after(() => db.close());
  assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  assert.equal(count(db), 100);
});
