import type Database from 'better-sqlite3';

/** Customers, meter assignments, stored tariffs, prepaid watermarks, balance events and invoices (ledger: ledger-schema.ts). */
export function ensureBillingSchema(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS billing_tariffs (id TEXT PRIMARY KEY, json TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS billing_customers (
      id TEXT PRIMARY KEY, name TEXT NOT NULL, phone TEXT NOT NULL, site TEXT NOT NULL, tariff_id TEXT NOT NULL,
      mode TEXT NOT NULL CHECK (mode IN ('prepaid','postpaid')), protected INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS billing_meter_assignments (
      meter_key TEXT NOT NULL, customer_id TEXT NOT NULL REFERENCES billing_customers(id),
      from_ms INTEGER NOT NULL, to_ms INTEGER, PRIMARY KEY (meter_key, from_ms));
    CREATE INDEX IF NOT EXISTS billing_assign_customer ON billing_meter_assignments (customer_id);
    CREATE TABLE IF NOT EXISTS billing_prepaid_state (customer_id TEXT PRIMARY KEY, usage_json TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS billing_watermarks (customer_id TEXT NOT NULL, meter_key TEXT NOT NULL, next_ms INTEGER NOT NULL, PRIMARY KEY (customer_id, meter_key));
    CREATE TABLE IF NOT EXISTS billing_prepaid_fixed_days (customer_id TEXT PRIMARY KEY, next_day TEXT NOT NULL);
    -- Balance events written with the charge that caused them, taken by the runtime after the run.
    CREATE TABLE IF NOT EXISTS billing_balance_events (
      id INTEGER PRIMARY KEY, customer_id TEXT NOT NULL, kind TEXT NOT NULL, threshold INTEGER NOT NULL,
      credit INTEGER NOT NULL, protected INTEGER NOT NULL, at_ms INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS billing_invoices (
      id INTEGER PRIMARY KEY, customer_id TEXT NOT NULL, month TEXT NOT NULL, total INTEGER NOT NULL, tx_id INTEGER NOT NULL,
      issued_ms INTEGER NOT NULL, bill_json TEXT NOT NULL, UNIQUE (customer_id, month));
    CREATE TABLE IF NOT EXISTS billing_allocations (
      invoice_id INTEGER NOT NULL REFERENCES billing_invoices(id), payment_ref TEXT NOT NULL, amount INTEGER NOT NULL,
      PRIMARY KEY (invoice_id, payment_ref));
  `);
}
