import { z } from '#zod';
import type { StoreDb } from '../store/database.js';
import { intervals } from '../store/history.js';
import { ensureBillingSchema } from './billing-schema.js';
import { ACCOUNTS, type Ledger } from './ledger.js';
import { loadTariff } from './tariff-store.js';
import { prep } from './sql-cache.js';

export const CustomerSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
  name: z.string().min(1),
  /** E.164: + then country code and number, at most 15 digits. */
  phone: z.string().regex(/^\+[1-9]\d{7,14}$/, 'expected an E.164 number such as +256772123456'),
  site: z.string().min(1),
  tariffId: z.string().min(1),
  mode: z.enum(['prepaid', 'postpaid']),
  /** Never disconnected automatically (health centre, school...). */
  protected: z.boolean().default(false),
});
export type Customer = z.infer<typeof CustomerSchema>;

interface CustomerRow {
  id: string;
  name: string;
  phone: string;
  site: string;
  tariff_id: string;
  mode: 'prepaid' | 'postpaid';
  protected: number;
}
const fromRow = (r: CustomerRow): Customer => ({
  id: r.id,
  name: r.name,
  phone: r.phone,
  site: r.site,
  tariffId: r.tariff_id,
  mode: r.mode,
  protected: r.protected === 1,
});

/**
 * Creates a customer and its one ledger account: prepaid credit is money owed to the customer
 * (liability), a postpaid receivable is money owed by the customer (asset).
 */
export function createCustomer(db: StoreDb, ledger: Ledger, input: z.input<typeof CustomerSchema>): Customer {
  ensureBillingSchema(db);
  const c = CustomerSchema.parse(input);
  if (c.site !== ledger.site) throw new Error(`customer ${c.id} is in ${c.site}, the ledger is ${ledger.site}`);
  const t = loadTariff(db, c.tariffId);
  if (!t) throw new Error(`unknown tariff ${c.tariffId}`);
  if (t.currency !== ledger.currency) throw new Error(`tariff ${t.id} is in ${t.currency}, the ledger in ${ledger.currency}`);
  db.transaction(() => {
    prep(db, 'INSERT INTO billing_customers (id, name, phone, site, tariff_id, mode, protected) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
      c.id,
      c.name,
      c.phone,
      c.site,
      c.tariffId,
      c.mode,
      c.protected ? 1 : 0,
    );
    ledger.openAccount(ACCOUNTS.customer(c.id), c.mode === 'prepaid' ? 'liability' : 'asset');
  })();
  return c;
}

export function getCustomer(db: StoreDb, id: string): Customer | undefined {
  ensureBillingSchema(db);
  const r = prep<[string], CustomerRow>(db, 'SELECT * FROM billing_customers WHERE id = ?').get(id);
  return r ? fromRow(r) : undefined;
}

export function listCustomers(db: StoreDb, filter: { site?: string; mode?: Customer['mode'] } = {}): Customer[] {
  ensureBillingSchema(db);
  return prep<[], CustomerRow>(db, 'SELECT * FROM billing_customers ORDER BY id')
    .all()
    .map(fromRow)
    .filter((c) => (filter.site === undefined || c.site === filter.site) && (filter.mode === undefined || c.mode === filter.mode));
}

export interface Assignment {
  readonly meterKey: string;
  readonly customerId: string;
  readonly fromMs: number;
  /** Exclusive; null while the meter is still assigned. */
  readonly toMs: number | null;
}

interface AssignRow {
  meter_key: string;
  customer_id: string;
  from_ms: number;
  to_ms: number | null;
}
const toAssignment = (r: AssignRow): Assignment => ({ meterKey: r.meter_key, customerId: r.customer_id, fromMs: r.from_ms, toMs: r.to_ms });

/**
 * Assigns a meter to a customer from fromMs, closing its current assignment there. History is
 * never rewritten: fromMs must be after the start of the current assignment and after any closed one.
 */
export function assignMeter(db: StoreDb, customerId: string, meterKey: string, fromMs: number): void {
  ensureBillingSchema(db);
  if (!getCustomer(db, customerId)) throw new Error(`unknown customer ${customerId}`);
  db.transaction(() => {
    closeAt(db, meterKey, fromMs);
    prep(db, 'INSERT INTO billing_meter_assignments (meter_key, customer_id, from_ms, to_ms) VALUES (?, ?, ?, NULL)').run(meterKey, customerId, fromMs);
  })();
}

/** Ends the meter's current assignment at atMs (the meter is removed or left unassigned). */
export function unassignMeter(db: StoreDb, meterKey: string, atMs: number): void {
  ensureBillingSchema(db);
  db.transaction(() => closeAt(db, meterKey, atMs))();
}

function closeAt(db: StoreDb, meterKey: string, atMs: number): void {
  const latest = prep<[string], AssignRow>(db, 'SELECT * FROM billing_meter_assignments WHERE meter_key = ? ORDER BY from_ms DESC LIMIT 1').get(meterKey);
  if (!latest) return;
  if (atMs <= latest.from_ms || (latest.to_ms !== null && atMs < latest.to_ms)) {
    throw new Error(`meter ${meterKey}: ${new Date(atMs).toISOString()} is inside its recorded assignment history`);
  }
  if (latest.to_ms === null) prep(db, 'UPDATE billing_meter_assignments SET to_ms = ? WHERE meter_key = ? AND from_ms = ?').run(atMs, meterKey, latest.from_ms);
}

export function assignmentsOf(db: StoreDb, customerId: string): Assignment[] {
  ensureBillingSchema(db);
  return prep<[string], AssignRow>(db, 'SELECT * FROM billing_meter_assignments WHERE customer_id = ? ORDER BY from_ms, meter_key')
    .all(customerId)
    .map(toAssignment);
}

export interface CustomerInterval {
  readonly meterKey: string;
  readonly startMs: number;
  /** Imported energy; an interval without a counter value counts as 0. */
  readonly kWh: number;
}

/** A customer's intervals starting in [fromMs, toMs), each meter only within its assignment periods. */
export function consumptionOf(db: StoreDb, customerId: string, fromMs: number, toMs: number): CustomerInterval[] {
  const out: CustomerInterval[] = [];
  for (const a of assignmentsOf(db, customerId)) {
    const from = Math.max(fromMs, a.fromMs);
    const to = Math.min(toMs, a.toMs ?? Infinity);
    if (from >= to) continue;
    for (const r of intervals(db, a.meterKey, from, to)) out.push({ meterKey: a.meterKey, startMs: r.startMs, kWh: r.energyImportKWh ?? 0 });
  }
  return out.sort((x, y) => x.startMs - y.startMs || (x.meterKey < y.meterKey ? -1 : x.meterKey > y.meterKey ? 1 : 0));
}
