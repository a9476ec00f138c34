import { test } from 'node:test';
import assert from 'node:assert/strict';
import { migrateAlarmTables } from '../src/alarms/alarm-schema.js';
import { RuleStateStore } from '../src/alarms/rule-state.js';
import { tempDb } from './helpers/temp-db.js';

// A rule's state on a real SQLite file: what a restart reads back, and how often a row is written.

const T0 = Date.UTC(2026, 0, 15, 22, 0, 0);
const EVERY = 15 * 60_000;

test('setLazily: served from memory at once, written at most every 15 min; a restart reads the last write', (t) => {
  const db = tempDb(t);
  migrateAlarmTables(db);
  const stored = (): unknown => {
    const text = db.prepare<[], string>("SELECT state FROM alarm_rule_state WHERE rule = 'reverse_energy' AND subject = 'meter2'").pluck().get();
    return text === undefined ? undefined : (JSON.parse(text) as unknown);
  };
  const writes = (): number => db.prepare<[], number>('SELECT total_changes()').pluck().get() ?? 0;
  const store = new RuleStateStore(db);
  const w0 = writes();

  // A counter rising every 10 s poll for 20 minutes: 120 changes.
  for (let i = 0; i < 120; i++) {
    const now = T0 + i * 10_000;
    const state = { baselineKWh: 1, lastKWh: 1 + i / 100, lastRiseAt: now };
    store.setLazily('reverse_energy', 'meter2', state, now, EVERY);
    assert.deepEqual(store.get('reverse_energy', 'meter2'), state, 'the rule sees its newest state every poll');
  }
  assert.equal(writes() - w0, 2, 'written at the first change and 15 min later, not 120 times');
  assert.deepEqual(stored(), { baselineKWh: 1, lastKWh: 1.9, lastRiseAt: T0 + 90 * 10_000 });
  assert.deepEqual(new RuleStateStore(db).get('reverse_energy', 'meter2'), stored(), 'a restart reads the last write');

  // set() writes at once, and an unchanged state is not written again.
  const baseline = { baselineKWh: 2, lastKWh: 2, lastRiseAt: T0 + 1_200_000 };
  store.set('reverse_energy', 'meter2', baseline, T0 + 1_200_000);
  store.set('reverse_energy', 'meter2', { ...baseline }, T0 + 1_210_000);
  assert.equal(writes() - w0, 3);
  assert.deepEqual(stored(), baseline);
});
