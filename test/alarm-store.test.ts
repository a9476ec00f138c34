import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AlarmStore, type AlarmChange } from '../src/alarms/alarm-store.js';
import { AlarmError } from '../src/alarms/errors.js';
import { openDatabase } from '../src/store/database.js';
import { tempDb } from './helpers/temp-db.js';

const T0 = Date.UTC(2026, 2, 10, 8, 0, 0);

test('one open alarm per (rule, subject): re-raising does not duplicate, a changed condition is an update', (t) => {
  const changes: AlarmChange[] = [];
  const store = new AlarmStore(tempDb(t), { now: () => T0, onChange: (c) => changes.push(c) });
  const first = store.raise({ rule: 'voltage', subject: 'meter100/Voltage_L2', severity: 'major', condition: 'under', message: '195.0 V' });
  assert.equal(first.change, 'raised');
  const again = store.raise({ rule: 'voltage', subject: 'meter100/Voltage_L2', severity: 'major', condition: 'under', message: '194.8 V', at: T0 + 10_000 });
  assert.equal(again.change, null);
  assert.equal(again.alarm.id, first.alarm.id);
  assert.equal(again.alarm.message, '195.0 V', 'the value at raise time is kept');
  const worse = store.raise({ rule: 'voltage', subject: 'meter100/Voltage_L2', severity: 'critical', condition: 'under', message: '170.0 V', at: T0 + 20_000 });
  assert.equal(worse.change, 'updated');
  assert.equal(worse.alarm.severity, 'critical');
  assert.equal(store.list({ state: 'all' }).length, 1);
  assert.deepEqual(
    changes.map((c) => c.event.kind),
    ['raised', 'updated'],
  );
  // another subject or rule is another alarm
  store.raise({ rule: 'voltage', subject: 'meter3/Voltage_L1', severity: 'major', condition: 'under', message: 'x' });
  store.raise({ rule: 'meter_offline', subject: 'meter100', severity: 'critical', message: 'y' });
  assert.equal(store.list().length, 3);
  assert.deepEqual(
    store
      .list({ meter: 'meter100' })
      .map((a) => a.subject)
      .sort(),
    ['meter100', 'meter100/Voltage_L2'],
  );
  assert.equal(store.list({ meter: 'meter10' }).length, 0, 'meter10 is not a prefix match of meter100');
});

test('clear keeps the alarm and its history; the next raise is a new alarm', (t) => {
  const store = new AlarmStore(tempDb(t), { now: () => T0 });
  const a = store.raise({ rule: 'frequency', subject: 'site', severity: 'major', condition: 'over', message: '51.20 Hz' }).alarm;
  assert.equal(store.clear('frequency', 'site', { at: T0 + 60_000, message: 'back in range: 50.00 Hz' })?.state, 'cleared');
  assert.equal(store.clear('frequency', 'site'), null, 'nothing open to clear');
  const cleared = store.get(a.id);
  assert.equal(cleared?.clearedAt, T0 + 60_000);
  assert.deepEqual(
    store.events(a.id).map((e) => [e.kind, e.at, e.by, e.message]),
    [
      ['raised', T0, 'system', '51.20 Hz'],
      ['cleared', T0 + 60_000, 'system', 'back in range: 50.00 Hz'],
    ],
  );
  const b = store.raise({ rule: 'frequency', subject: 'site', severity: 'major', condition: 'over', message: '51.30 Hz', at: T0 + 120_000 });
  assert.notEqual(b.alarm.id, a.id);
  assert.deepEqual(
    store.list({ state: 'cleared' }).map((x) => x.id),
    [a.id],
  );
  assert.deepEqual(
    store.list({ state: 'open' }).map((x) => x.id),
    [b.alarm.id],
  );
  assert.deepEqual(
    store.list({ state: 'all' }).map((x) => x.id),
    [b.alarm.id, a.id],
    'newest first',
  );
});

test('acknowledge records who, when and a note, once; unknown alarms and anonymous acks are refused', (t) => {
  const store = new AlarmStore(tempDb(t), { now: () => T0 });
  const a = store.raise({ rule: 'status_code', subject: 'meter5', severity: 'major', condition: '1005', message: 'tamper' }).alarm;
  const acked = store.acknowledge(a.id, 'alice', 'on my way', T0 + 5_000);
  assert.deepEqual(acked.acknowledged, { by: 'alice', at: T0 + 5_000, note: 'on my way' });
  assert.equal(acked.state, 'open', 'an acknowledged alarm stays open until its cause is gone');
  assert.throws(
    () => store.acknowledge(a.id, 'bob'),
    (e: unknown) => e instanceof AlarmError && e.reason === 'conflict' && /already acknowledged by alice/.test(e.message),
  );
  assert.throws(
    () => store.acknowledge(999, 'bob'),
    (e: unknown) => e instanceof AlarmError && e.reason === 'not_found',
  );
  assert.throws(
    () => store.acknowledge(a.id, ''),
    (e: unknown) => e instanceof AlarmError && e.reason === 'invalid',
  );
  assert.deepEqual(store.events(a.id).at(-1), { at: T0 + 5_000, kind: 'acknowledged', by: 'alice', message: 'on my way' });
  // A milder update keeps the acknowledgement; a new condition needs a new one.
  store.raise({ rule: 'status_code', subject: 'meter5', severity: 'minor', condition: '1005', message: 'tamper' });
  assert.equal(store.get(a.id)?.acknowledged?.by, 'alice');
  store.raise({ rule: 'status_code', subject: 'meter5', severity: 'critical', condition: '1018', message: 'bypass' });
  assert.equal(store.get(a.id)?.acknowledged, null);
  assert.equal(store.findOpen('status_code', 'meter5')?.acknowledged, null, 'the open-alarm cache agrees with the file');
  assert.equal(store.acknowledge(a.id, 'bob').acknowledged?.by, 'bob');
  assert.deepEqual(
    store.events(a.id).map((e) => e.kind),
    ['raised', 'acknowledged', 'updated', 'updated', 'acknowledged'],
  );
});

test('the database enforces one open alarm per (rule, subject), and open alarms survive a restart', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-alarm-store-'));
  try {
    const file = path.join(dir, 'mgos.db');
    let db = openDatabase(file);
    const id = new AlarmStore(db).raise({ rule: 'disk_free', subject: 'site', severity: 'major', message: 'low' }).alarm.id;
    assert.throws(
      () =>
        db
          .prepare(
            "INSERT INTO alarms (rule, subject, severity, state, condition, message, raised_at) VALUES ('disk_free', 'site', 'major', 'open', 'x', 'x', 0)",
          )
          .run(),
      /UNIQUE/,
    );
    db.close();
    db = openDatabase(file);
    const store = new AlarmStore(db);
    assert.equal(store.findOpen('disk_free', 'site')?.id, id);
    assert.equal(store.raise({ rule: 'disk_free', subject: 'site', severity: 'major', message: 'low' }).change, null);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
