import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase, type StoreDb } from '../../src/store/database.js';

/** A real SQLite file in a fresh temp folder, closed and removed when the test ends. */
export function tempDb(t: { after: (fn: () => void) => void }): StoreDb {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-store-'));
  const db = openDatabase(path.join(dir, 'mgos.db'));
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return db;
}
