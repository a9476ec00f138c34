import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

/**
 * Opens the SQLite file of a durable outbound queue (the uplink's, the 2030.5 telemetry's): its own
 * file, WAL, and synchronous=FULL, so a commit survives a power cut (the store's own file runs
 * NORMAL and may lose its last commits); then creates the queue's tables.
 */
export function openDurableQueueDb(file: string, schema: string): Database.Database {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.exec(schema);
  return db;
}
