/**
 * Schema migrations, applied in order by openDatabase. Append new entries; never edit a shipped one.
 *
 * Byte budget (why a poll is one row with its values packed in a BLOB): 100 meters polled every
 * 10 s make 864,000 rows a day. A row per value would cost ~30 bytes per value (key + value), ~250
 * bytes for an 8-channel poll. Packed, a single-phase DDSU666 poll is 6 float32 + 2 float64 = 40
 * bytes of values, ~60 bytes on disk with key, header and b-tree slack (measured by
 * bench/ingest.ts): 90 days of raw data for 100 such meters is ~4.7 GB, 12 channels ~6 GB, 100
 * three-phase DTSU666 meters (24 channels, ~135 bytes) ~10.5 GB. That fits a 32 GB card with room
 * for the OS; rawRetentionDays bounds it, and pages freed by retention are reused, so the file
 * stops growing. Intervals (96 rows per meter per day, ~75 bytes) are kept: ~260 MB per 100
 * meters a year.
 * WITHOUT ROWID keeps each table a single b-tree keyed by (meter, time): no second index to write.
 * No FOREIGN KEY clauses: enforcing them would cost a lookup per inserted row; only this module writes.
 * A migration is SQL, or a function for a step SQL cannot do (converting data with the codec).
 */
import type Database from 'better-sqlite3';
import { convertArchiveToChunks, moveRecentToChunks } from './archive-migration.js';

export type Migration = string | ((db: Database.Database) => void);

/** The columns of a stored interval, in the order both interval tables and their view have them. */
export const INTERVAL_COLUMNS =
  'meter_id, start_ts, e_imp_kwh, e_exp_kwh, p_avg_w, p_min_w, p_max_w, v_min_v, v_max_v, samples, status, reason, suspect_imp_kwh, suspect_exp_kwh';

export const MIGRATIONS: readonly Migration[] = [
  `
  CREATE TABLE meters (
    id  INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE
  );
  CREATE TABLE layouts (
    id   INTEGER PRIMARY KEY,
    spec TEXT NOT NULL UNIQUE -- "Channel:f32,Channel:f64,...", the order of values in a row's BLOB
  );
  CREATE TABLE readings (
    meter_id  INTEGER NOT NULL,
    ts        INTEGER NOT NULL, -- unix seconds
    layout_id INTEGER NOT NULL,
    vals      BLOB NOT NULL,
    PRIMARY KEY (meter_id, ts)
  ) WITHOUT ROWID;
  CREATE TABLE intervals (
    meter_id  INTEGER NOT NULL,
    start_ts  INTEGER NOT NULL, -- unix seconds, a multiple of 900
    e_imp_kwh REAL,
    e_exp_kwh REAL,
    p_avg_w   REAL,
    p_min_w   REAL,
    p_max_w   REAL,
    v_min_v   REAL,
    v_max_v   REAL,
    samples   INTEGER NOT NULL,
    PRIMARY KEY (meter_id, start_ts)
  ) WITHOUT ROWID;
  `,
  // Quarantine: an interval whose counters say something impossible keeps null energies (nothing
  // bills or sums it) and what the counters said, until a person resolves it. Replacements are
  // inventory events with both meters' readings; the interval builder counts across them.
  `
  ALTER TABLE intervals ADD COLUMN status TEXT NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'quarantined', 'resolved'));
  ALTER TABLE intervals ADD COLUMN reason TEXT;
  ALTER TABLE intervals ADD COLUMN suspect_imp_kwh REAL;
  ALTER TABLE intervals ADD COLUMN suspect_exp_kwh REAL;
  CREATE INDEX intervals_open_quarantine ON intervals (meter_id, start_ts) WHERE status = 'quarantined';
  CREATE TABLE interval_resolutions (
    id        INTEGER PRIMARY KEY AUTOINCREMENT, -- billing charges resolutions it has not seen, once
    meter_id  INTEGER NOT NULL,
    start_ts  INTEGER NOT NULL,
    action    TEXT NOT NULL CHECK (action IN ('accept', 'set', 'zero', 'replacement')),
    e_imp_kwh REAL,
    e_exp_kwh REAL,
    by_user   TEXT NOT NULL,
    at_ms     INTEGER NOT NULL,
    why       TEXT NOT NULL,
    UNIQUE (meter_id, start_ts)
  );
  CREATE TABLE meter_replacements (
    id                INTEGER PRIMARY KEY,
    meter_id          INTEGER NOT NULL,
    at_ms             INTEGER NOT NULL, -- between the old meter's last and the new meter's first reading
    old_serial        TEXT,
    new_serial        TEXT,
    old_final_imp_kwh REAL NOT NULL,
    new_first_imp_kwh REAL NOT NULL,
    old_final_exp_kwh REAL,
    new_first_exp_kwh REAL,
    by_user           TEXT NOT NULL,
    recorded_ms       INTEGER NOT NULL,
    why               TEXT NOT NULL,
    UNIQUE (meter_id, at_ms)
  );
  `,
  // The governance audit log becomes hash-chained: each entry stores the hash of the previous one
  // and its own (SHA-256 over the previous hash and the entry's fields), so AuditLog.verify() finds
  // an edited or deleted entry. The table may predate this migration (AuditLog used to create it),
  // or not exist yet. The update trigger now lets exactly one update through: sealing an entry that
  // has no hash yet (entries written before this migration), without changing any other field.
  `
  CREATE TABLE IF NOT EXISTS governance_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
    proposal_id INTEGER, customer TEXT, meter INTEGER, detail TEXT NOT NULL);
  CREATE INDEX IF NOT EXISTS governance_audit_ts ON governance_audit (ts);
  ALTER TABLE governance_audit ADD COLUMN prev_hash TEXT;
  ALTER TABLE governance_audit ADD COLUMN hash TEXT;
  DROP TRIGGER IF EXISTS governance_audit_no_update;
  CREATE TRIGGER governance_audit_no_update BEFORE UPDATE ON governance_audit
    WHEN NOT (OLD.hash IS NULL AND NEW.hash IS NOT NULL AND NEW.id IS OLD.id AND NEW.ts IS OLD.ts AND NEW.actor IS OLD.actor
              AND NEW.action IS OLD.action AND NEW.proposal_id IS OLD.proposal_id AND NEW.customer IS OLD.customer
              AND NEW.meter IS OLD.meter AND NEW.detail IS OLD.detail)
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  CREATE TRIGGER IF NOT EXISTS governance_audit_no_delete BEFORE DELETE ON governance_audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  `,
  // EEPROM setting writes (issue 10, docs/devices.md#write-wear): a persisted per-device daily write budget, and
  // every write with its read-back, so a restart neither resets the budget nor forgets the dwell.
  `
  CREATE TABLE IF NOT EXISTS setting_write_budget (
    device TEXT NOT NULL,
    day    TEXT NOT NULL, -- local calendar day in the site's time zone
    writes INTEGER NOT NULL,
    PRIMARY KEY (device, day)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS setting_writes (
    id        INTEGER PRIMARY KEY,
    device    TEXT NOT NULL,
    channel   TEXT NOT NULL,
    register  INTEGER NOT NULL,
    old_value REAL,
    new_value REAL NOT NULL,
    read_back REAL,
    outcome   TEXT NOT NULL CHECK (outcome IN ('written', 'mismatch', 'failed')),
    at_ms     INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS setting_writes_by_channel ON setting_writes (device, channel, at_ms);
  `,
  // Few writes (SD card wear). Keyed (meter, time), a flush of 100 meters touched ~100 leaf pages
  // (each meter's newest page) and the WAL wrote every one of them in full: ~4 KB per reading
  // (bench/disk-writes.ts). New readings now go to `readings_recent`, keyed (time, meter), where a
  // flush appends a few pages; once an hour the recorder moves the closed hours, sorted by meter,
  // to `readings_archive` (the old table): a run of new pages per meter. `readings` is a view of
  // both, so queries read it as before (SQLite merges the two ordered halves; use ORDER BY ... LIMIT
  // rather than min()/max() on it, which scan). Rows at or before `readings_archived_upto.ts` belong
  // to the archive, later ones to recent, so no (meter, ts) is ever in both.
  `
  ALTER TABLE readings RENAME TO readings_archive;
  CREATE TABLE readings_recent (
    ts        INTEGER NOT NULL,
    meter_id  INTEGER NOT NULL,
    layout_id INTEGER NOT NULL,
    vals      BLOB NOT NULL,
    PRIMARY KEY (ts, meter_id)
  ) WITHOUT ROWID;
  CREATE TABLE readings_archived_upto (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    ts INTEGER NOT NULL -- unix seconds: rows up to here are in readings_archive
  );
  INSERT INTO readings_archived_upto (id, ts) VALUES (1, coalesce((SELECT max(ts) FROM readings_archive), -1));
  CREATE VIEW readings AS
    SELECT meter_id, ts, layout_id, vals FROM readings_archive
    UNION ALL
    SELECT meter_id, ts, layout_id, vals FROM readings_recent;
  `,
  // Fewer writes, part 2. Moving rows one by one into `readings_archive` (keyed by meter) cost ~586
  // bytes per row moved (a page split per meter). A closed hour now becomes one compressed BLOB per
  // meter (chunk-codec.ts, ~20 bytes a reading instead of ~60), in `readings_chunks`, appended in
  // time order: its rowid and its (start_ts, meter_id) index both grow at the end. The archive's
  // rows are converted here (archive-migration.ts) and the table dropped. `readings` stays a view
  // (recent rows and the chunks' rows, through readings_chunk_rows(), which each connection that
  // openDatabase/openReadOnly makes registers); code reads through store/reading-rows.ts, which
  // bounds the chunks it decodes by time.
  `
  CREATE TABLE readings_chunks (
    id       INTEGER PRIMARY KEY,
    meter_id INTEGER NOT NULL,
    start_ts INTEGER NOT NULL, -- unix seconds, the hour's start (a multiple of 3600)
    data     BLOB NOT NULL     -- chunk-codec.ts
  );
  CREATE UNIQUE INDEX readings_chunks_by_time ON readings_chunks (start_ts, meter_id);
  `,
  convertArchiveToChunks,
  `
  DROP VIEW readings;
  DROP TABLE readings_archive;
  CREATE VIEW readings AS
    SELECT c.meter_id AS meter_id, r.ts AS ts, r.layout_id AS layout_id, r.vals AS vals FROM readings_chunks c, readings_chunk_rows(c.start_ts, c.data) r
    UNION ALL
    SELECT meter_id, ts, layout_id, vals FROM readings_recent;
  `,
  // OCPP 1.6J central system (src/ocpp/): chargers with their scrypt-hashed basic-auth password and
  // last boot, id tags mapped to billing customers, and charging sessions (the transaction id is the
  // row id; billed_tx_id is the ledger transaction that charged the session's energy).
  `
  CREATE TABLE ocpp_chargers (
    id            TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    vendor        TEXT,
    model         TEXT,
    firmware      TEXT,
    booted_ms     INTEGER,
    seen_ms       INTEGER,
    status        TEXT
  );
  CREATE TABLE ocpp_id_tags (
    id_tag      TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    blocked     INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE ocpp_sessions (
    transaction_id INTEGER PRIMARY KEY AUTOINCREMENT,
    charger_id     TEXT NOT NULL,
    connector_id   INTEGER NOT NULL,
    id_tag         TEXT NOT NULL,
    customer_id    TEXT,
    meter_start_wh INTEGER NOT NULL,
    started_ms     INTEGER NOT NULL,
    meter_stop_wh  INTEGER,
    stopped_ms     INTEGER,
    stop_reason    TEXT,
    last_meter_wh  INTEGER,
    power_w        REAL,
    offered_w      REAL,
    limit_w        REAL,
    billed_tx_id   INTEGER
  );
  CREATE INDEX ocpp_sessions_by_charger ON ocpp_sessions (charger_id, stopped_ms);
  `,
  // Fewer writes, part 3: the recent readings leave SQLite for an append-only journal file per hour
  // (recent-journal.ts). In WAL mode each row was written three times as whole pages (the WAL, the
  // checkpoint, the page rewritten by the hourly delete); an append is written once.
  moveRecentToChunks,
  // Fewer writes, part 4: keyed (meter, start), each 15-minute build rewrote one page per meter in
  // the WAL and at the checkpoint (~80 MB a day for 100 meters). New intervals go to
  // `intervals_recent`, keyed (start, meter), where a build appends a page or two; once a day the
  // days before yesterday move to `intervals_archive` (the old table), each meter's day as one run.
  // `intervals` is a view of both for reading; interval-table.ts writes the tables.
  `
  ALTER TABLE intervals RENAME TO intervals_archive;
  CREATE TABLE intervals_recent (
    start_ts        INTEGER NOT NULL,
    meter_id        INTEGER NOT NULL,
    e_imp_kwh       REAL,
    e_exp_kwh       REAL,
    p_avg_w         REAL,
    p_min_w         REAL,
    p_max_w         REAL,
    v_min_v         REAL,
    v_max_v         REAL,
    samples         INTEGER NOT NULL,
    status          TEXT NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'quarantined', 'resolved')),
    reason          TEXT,
    suspect_imp_kwh REAL,
    suspect_exp_kwh REAL,
    PRIMARY KEY (start_ts, meter_id)
  ) WITHOUT ROWID;
  CREATE VIEW intervals AS
    SELECT ${INTERVAL_COLUMNS} FROM intervals_archive
    UNION ALL
    SELECT ${INTERVAL_COLUMNS} FROM intervals_recent;
  `,
];
