import type Database from 'better-sqlite3';

/**
 * The alarm tables live in the site database but are versioned on their own (alarm_schema), so the
 * store's migrations and these never step on each other. Append new entries; never edit a shipped one.
 * One open alarm per (rule, subject) is enforced by a partial unique index, not only by code.
 */
const ALARM_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE IF NOT EXISTS alarms (
    id         INTEGER PRIMARY KEY,
    rule       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    severity   TEXT NOT NULL CHECK (severity IN ('critical', 'major', 'minor', 'info')),
    state      TEXT NOT NULL CHECK (state IN ('open', 'cleared')),
    condition  TEXT NOT NULL,
    message    TEXT NOT NULL,
    raised_at  INTEGER NOT NULL, -- unix ms, as every time in these tables
    cleared_at INTEGER,
    acked_by   TEXT,
    acked_at   INTEGER,
    ack_note   TEXT
  );
  CREATE UNIQUE INDEX IF NOT EXISTS alarms_one_open ON alarms (rule, subject) WHERE state = 'open';
  CREATE INDEX IF NOT EXISTS alarms_subject ON alarms (subject, raised_at);
  CREATE TABLE IF NOT EXISTS alarm_events (
    id       INTEGER PRIMARY KEY,
    alarm_id INTEGER NOT NULL,
    at       INTEGER NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('raised', 'updated', 'acknowledged', 'cleared')),
    by       TEXT NOT NULL,
    message  TEXT
  );
  CREATE INDEX IF NOT EXISTS alarm_events_alarm ON alarm_events (alarm_id, id);
  CREATE TABLE IF NOT EXISTS alarm_rule_state (
    rule    TEXT NOT NULL,
    subject TEXT NOT NULL,
    state   TEXT NOT NULL, -- JSON, owned by the rule
    PRIMARY KEY (rule, subject)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS alarm_outbox (
    id         INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL,
    body       TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    next_at    INTEGER NOT NULL,
    last_error TEXT
  );
  `,
];

/** Creates or upgrades the alarm tables, one transaction per step so a crash leaves a valid version. */
export function migrateAlarmTables(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS alarm_schema (version INTEGER NOT NULL)');
  const row = db.prepare<[], { version: number }>('SELECT version FROM alarm_schema').get();
  const current = row?.version ?? 0;
  if (current > ALARM_MIGRATIONS.length) {
    throw new Error(`${db.name} has alarm tables of version ${current}, newer than this mgos (${ALARM_MIGRATIONS.length}); upgrade mgos`);
  }
  ALARM_MIGRATIONS.slice(current).forEach((sql, i) => {
    db.transaction(() => {
      db.exec(sql);
      db.prepare('DELETE FROM alarm_schema').run();
      db.prepare('INSERT INTO alarm_schema (version) VALUES (?)').run(current + i + 1);
    })();
  });
}
