/**
 * Schema migrations, applied in order by openDatabase. Append new entries; never edit a shipped one.
 *
 * Byte budget (why readings are packed into a BLOB): 100 meters polled every 10 s is 864,000 rows a
 * day. A row-per-value table would cost ~30 bytes per value (key + value + index), ~700 bytes per
 * 24-channel poll; packed, a three-phase poll is 22 float32 + 2 float64 = 104 bytes of values plus
 * ~12 bytes of key and record header. bench/ingest.ts measures the real file, b-tree slack included:
 * see its bytesPerRow and gbPer90Days figures (about 10-12 GB for 90 days of 100 three-phase meters,
 * which a 32 GB card holds with room for the OS; 12-channel meters take about half that).
 * Intervals (96 rows per meter per day, ~70 bytes) are kept for years: ~250 MB per 100 meters a year.
 * WITHOUT ROWID keeps each table a single b-tree keyed by (meter, time): no second index to write.
 * No FOREIGN KEY clauses: enforcing them would cost a lookup per inserted row; only this module writes.
 */
export const MIGRATIONS: readonly string[] = [
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
];
