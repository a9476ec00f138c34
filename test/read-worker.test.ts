import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openReadPool } from '../src/api/read-pool.js';
import { minor } from '../src/billing/money.js';
import type { InvoicePdfInput } from '../src/billing/invoice-pdf.js';
import { rate } from '../src/billing/rating.js';
import { parseTariff } from '../src/billing/tariff.js';
import { fleetStoreFigures } from '../src/fleet/routes.js';
import { AuditLog } from '../src/governance/audit-log.js';
import { auditPage } from '../src/governance/audit-page.js';
import { ReadingWriter } from '../src/store/reading-writer.js';
import { tempDb } from './helpers/temp-db.js';

const T0 = Date.UTC(2026, 3, 4, 9, 0, 0);
const TZ = 'Africa/Kampala';

test('the read worker answers the fleet figures and audit pages as the request thread would, from its own read-only connection', async (t) => {
  const db = tempDb(t);
  const w = new ReadingWriter(db);
  for (let i = 0; i < 60; i++) w.add({ meter: 'meter2', ts: T0 + i * 10_000, values: { ActivePower: 100, EnergyImport: 10 + i / 1000 } });
  w.flush();
  const audit = new AuditLog(db);
  for (let i = 0; i < 40; i++) audit.append({ ts: T0 + i * 60_000, actor: 'system', action: 'actuated', detail: `setpoint ${i} W` });
  const pool = openReadPool(db.name);
  t.after(() => pool.close());

  const now = T0 + 700_000;
  const keys = ['meter2', 'meter9'];
  assert.deepEqual(JSON.parse(await pool.run('fleet', keys, now, 10_000, TZ)), fleetStoreFigures(db, keys, now, 10_000, TZ));

  const q = { from: T0 + 5 * 60_000, beforeId: 30, verify: true, limit: 10 };
  const page = JSON.parse(await pool.run('auditPage', q)) as ReturnType<typeof auditPage>;
  assert.deepEqual(page, auditPage(db, q));
  assert.equal(page.entries.length, 10);
  assert.equal(page.entries.at(-1)?.id, 29);
  assert.deepEqual(page.verification && { ok: page.verification.ok, entries: page.verification.entries }, { ok: true, entries: 40 });
  // Written after the worker opened its connection: seen at once (WAL readers see every commit).
  audit.append({ ts: T0 + 50 * 60_000, actor: 'admin', action: 'override', detail: 'seal replaced' });
  const all = JSON.parse(await pool.run('auditList', undefined, undefined)) as { entries: Array<{ detail: string }> };
  assert.equal(all.entries.length, 41);
  assert.equal(all.entries.at(-1)?.detail, 'seal replaced');
});

test('the read worker renders an invoice PDF', async (t) => {
  const db = tempDb(t);
  const pool = openReadPool(db.name);
  t.after(() => pool.close());
  const tariff = parseTariff({
    id: 'res',
    name: 'Residential',
    currency: 'UGX',
    versions: [{ version: 1, effectiveFrom: '2026-01-01', energy: { kind: 'flat', priceE4: 750 * 10_000 }, fixedMonthlyMinor: 3_360 }],
  });
  const fromMs = Date.UTC(2026, 8, 30, 21);
  const toMs = Date.UTC(2026, 9, 31, 21);
  const bill = rate([{ startMs: fromMs, kWh: 12 }], tariff, { fromMs, toMs }, TZ);
  const input: InvoicePdfInput = {
    invoice: { id: 42, customerId: 'c3', month: '2026-10', bill, totalMinor: bill.totalMinor, txId: 7, issuedMs: toMs + 3_600_000 },
    siteName: 'Kalangala Island Mini-grid',
    timeZone: TZ,
    customer: { id: 'c3', name: 'Nakato Shop', phone: '+256772000003' },
    account: 'customer:c3',
    meters: [{ meterKey: 'meter3', kWh: 12, intervals: 1 }],
    payments: [],
    accountBalanceMinor: minor(bill.totalMinor),
    printedMs: toMs + 86_400_000,
  };
  const pdf = (await pool.runEncoded('identity', 'invoicePdf', input)).body;
  assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
  assert.match(pdf.subarray(-8).toString('latin1'), /%%EOF/);
});
