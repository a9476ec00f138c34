import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, type Migration } from './schema.js';
import { registerChunkFunctions } from './chunk-sql.js';
import { journalOf } from './journal-of.js';

declare const migrated: unique symbol;

/** A better-sqlite3 connection whose schema is known to be current; only openDatabase makes one. */
export type StoreDb = Database.Database & { readonly [migrated]: true };

export interface OpenOptions {
  /** Migrations to apply (tests pass a prefix to simulate an old file). */
  readonly migrations?: readonly Migration[];
}

/**
 * Opens (creating if needed) the store file. WAL lets the web API read while the recorder writes;
 * synchronous=NORMAL skips the fsync per commit (SD card wear): a power cut can lose the last
 * commits but never corrupts the file.
 */
export function openDatabase(file: string, opts: OpenOptions = {}): StoreDb {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    // Sorts (moving readings to the archive, queries) stay in memory rather than in temp files.
    db.pragma('temp_store = MEMORY');
    registerChunkFunctions(db);
    migrate(db, opts.migrations ?? MIGRATIONS);
    loadJournal(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return db as StoreDb;
}

/**
 * A read-only connection for the history query worker: the main connection has already migrated
 * the file, and WAL lets this one read while the recorder writes.
 */
export function openReadOnly(file: string): StoreDb {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  registerChunkFunctions(db);
  loadJournal(db);
  return db as StoreDb;
}

/** The recent readings live in the journal once the schema has moved them there (a newer file). */
function loadJournal(db: Database.Database): void {
  const hasUpto = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'readings_archived_upto'").get() !== undefined;
  if (!hasUpto) return;
  journalOf(db).load(db.prepare<[], number>('SELECT ts FROM readings_archived_upto WHERE id = 1').pluck().get() ?? -1);
}

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Brings the file to the latest version, one transaction per migration so a crash leaves a valid version. */
function migrate(db: Database.Database, migrations: readonly Migration[]): void {
  const current = schemaVersion(db);
  if (current > migrations.length) {
    throw new Error(`${db.name} has schema version ${current}, newer than this mgos (${migrations.length}); upgrade mgos`);
  }
  migrations.slice(current).forEach((step, i) => {
    db.transaction(() => {
      if (typeof step === 'string') db.exec(step);
      else step(db);
      db.pragma(`user_version = ${current + i + 1}`);
    })();
  });
}
