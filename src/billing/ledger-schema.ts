import type Database from 'better-sqlite3';

/**
 * The billing ledger's own tables. Entries and transactions are append-only: triggers refuse UPDATE
 * and DELETE, so a correction can only be a reversing transaction.
 */
export function ensureLedgerSchema(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS billing_ledgers (site TEXT PRIMARY KEY, currency TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS billing_accounts (
      site TEXT NOT NULL, code TEXT NOT NULL, type TEXT NOT NULL CHECK (type IN ('asset','liability','revenue','expense','equity')),
      PRIMARY KEY (site, code));
    CREATE TABLE IF NOT EXISTS billing_transactions (
      id INTEGER PRIMARY KEY, site TEXT NOT NULL, idem_key TEXT NOT NULL, kind TEXT NOT NULL, reference TEXT NOT NULL,
      posted_ms INTEGER NOT NULL, reverses INTEGER UNIQUE REFERENCES billing_transactions(id),
      UNIQUE (site, idem_key));
    CREATE TABLE IF NOT EXISTS billing_entries (
      tx_id INTEGER NOT NULL REFERENCES billing_transactions(id), site TEXT NOT NULL, account TEXT NOT NULL,
      amount INTEGER NOT NULL, posted_ms INTEGER NOT NULL);
    CREATE INDEX IF NOT EXISTS billing_entries_account ON billing_entries (site, account, posted_ms);
    CREATE INDEX IF NOT EXISTS billing_entries_tx ON billing_entries (tx_id);
    CREATE TRIGGER IF NOT EXISTS billing_entries_no_update BEFORE UPDATE ON billing_entries BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
    CREATE TRIGGER IF NOT EXISTS billing_entries_no_delete BEFORE DELETE ON billing_entries BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
    CREATE TRIGGER IF NOT EXISTS billing_tx_no_update BEFORE UPDATE ON billing_transactions BEGIN SELECT RAISE(ABORT, 'ledger transactions are append-only'); END;
    CREATE TRIGGER IF NOT EXISTS billing_tx_no_delete BEFORE DELETE ON billing_transactions BEGIN SELECT RAISE(ABORT, 'ledger transactions are append-only'); END;
  `);
}
