import type Database from 'better-sqlite3';
import { RecentJournal } from './recent-journal.js';

const journals = new WeakMap<Database.Database, RecentJournal>();

/** The recent-readings journal of a store connection: files in `<db file>-recent/`, beside the WAL. */
export function journalOf(db: Database.Database): RecentJournal {
  let j = journals.get(db);
  if (!j) journals.set(db, (j = new RecentJournal(db.memory ? null : `${db.name}-recent`)));
  return j;
}
