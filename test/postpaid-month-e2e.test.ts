import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { LocalCalendar } from '../src/billing/calendar.js';
import { formatMinor } from '../src/billing/money.js';
import { rate, type Bill } from '../src/billing/rating.js';
import { parseTariff } from '../src/billing/tariff.js';
import { siteConfigSchemaFor } from '../src/config/site-config.js';
import { loadProfiles } from '../src/drivers/profiles.js';
import { Recorder } from '../src/recorder/recorder.js';
import { recordSimulatedHistory } from '../src/recorder/simulated-history.js';
import { simulatedMeterConfigs, startSimulator } from '../src/sim/simulator.js';
import { openDatabase } from '../src/store/database.js';
import { intervals } from '../src/store/history.js';
import { startSystem } from '../src/system.js';
import { httpClient } from './helpers/http.js';

/**
 * Postpaid on a month of simulated data: the simulator's model records the whole last complete local
 * month (1-minute readings, then 15-minute intervals) into a fresh database; the system then starts on
 * it, postpaid customers are invoiced for that month through the API, and each invoice total must equal
 * both the ledger movement on the customer's account and an independent re-rating of the same intervals
 * (with the fixed charge prorated to the days the customer had a meter, counted by hand).
 */

const TZ = 'Africa/Kampala';
const PASSWORD = 'correct horse battery';
const CUSTOMERS = 4;
const FIXED_MONTHLY_MINOR = 3_360;
const TARIFF_INPUT = {
  id: 'postpaid-res',
  name: 'Postpaid residential',
  currency: 'UGX',
  versions: [
    {
      version: 1,
      effectiveFrom: '2020-01-01',
      energy: {
        kind: 'block',
        blocks: [
          { upToKWh: 15, priceE4: 250 * 10_000 },
          { upToKWh: null, priceE4: 756 * 10_000 },
        ],
      },
      fixedMonthlyMinor: FIXED_MONTHLY_MINOR,
      taxes: [{ name: 'VAT', rateBp: 1800, base: ['energy', 'fixed'] }],
    },
  ],
};
const TARIFF = parseTariff(TARIFF_INPUT);

const has = (cmd: string): boolean => spawnSync(cmd, ['-v']).error === undefined;

/** num / den rounded half to even (non-negative integers). */
function halfEven(num: number, den: number): number {
  const q = Math.floor(num / den);
  const r = num - q * den;
  return 2 * r > den || (2 * r === den && q % 2 === 1) ? q + 1 : q;
}

function config(dbPath: string) {
  return {
    site: { id: 'postpaid_e2e', name: 'Postpaid e2e', timezone: TZ },
    poll: { intervalMs: 1000 },
    storage: { path: dbPath, flushIntervalMs: 1000 },
    http: { port: 0 },
    sim: { enabled: true, customers: CUSTOMERS, port: 0 },
    billing: { currency: 'UGX', chargeEveryMs: 60_000 },
  };
}

/** Records the simulated site from fromMs to untilMs into the database at dbPath. */
async function recordMonth(dbPath: string, fromMs: number, untilMs: number): Promise<void> {
  const profiles = loadProfiles();
  const parsed = siteConfigSchemaFor([...profiles.keys()]).parse(config(dbPath));
  const meters = simulatedMeterConfigs(CUSTOMERS).map((m) => ({ ...m, enabled: true, ctRatio: 1, ptRatio: 1, invert: false }));
  const siteConfig = { ...parsed, meters } as typeof parsed;
  const sim = await startSimulator({ seed: 7, customers: CUSTOMERS, port: 0, utcOffsetHours: 3, startMs: fromMs, clock: () => untilMs });
  const db = openDatabase(dbPath);
  try {
    const recorder = new Recorder(db, { flushIntervalMs: 1000, rawRetentionDays: 400 });
    const n = recordSimulatedHistory(sim, siteConfig, profiles, recorder, untilMs);
    assert.ok(n > 0);
  } finally {
    db.close();
    await sim.close();
  }
}

test('postpaid: a month of simulated data produces invoices whose totals match the ledger and a re-rating', { timeout: 240_000 }, async () => {
  const cal = LocalCalendar.for(TZ);
  const thisMonth = cal.month(Date.now());
  const [y, m] = thisMonth.split('-').map(Number) as [number, number];
  const month = m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
  const [fromMs, toMs] = cal.monthRange(month);
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-postpaid-'));
  const dbPath = path.join(dir, 'mgos.db');
  // A day before the month (customer 3 is assigned mid-month, the others before it) to an hour after.
  await recordMonth(dbPath, fromMs - 86_400_000, Math.min(toMs + 3_600_000, Date.now()));

  const sys = await startSystem({ config: config(dbPath), adminPassword: PASSWORD, logger: pino({ level: 'silent' }) });
  try {
    const http = httpClient(() => sys.url);
    const token = await http.login('admin', PASSWORD);
    const call = (method: string, url: string, body?: unknown) => http.call(method, url, { token, body });
    let r = await call('POST', '/api/tariffs', TARIFF_INPUT);
    assert.equal(r.status, 200, r.text);

    // c1 has two meters (2, 3) for the whole month; c3 meter 4 from the 10th (local midnight); c4 meter 5 from the 1st.
    const midMonth = cal.monthRange(month)[0] + 9 * 86_400_000;
    const plan: Array<{ id: string; name: string; meters: Array<{ meter: string; from: number }> }> = [
      {
        id: 'c1',
        name: 'Okello Hardware',
        meters: [
          { meter: 'meter2', from: fromMs - 3_600_000 },
          { meter: 'meter3', from: fromMs - 3_600_000 },
        ],
      },
      { id: 'c3', name: 'Namutebi Salon', meters: [{ meter: 'meter4', from: midMonth }] },
      { id: 'c4', name: 'Achieng Kiosk', meters: [{ meter: 'meter5', from: fromMs }] },
    ];
    for (const [i, c] of plan.entries()) {
      r = await call('POST', '/api/customers', { id: c.id, name: c.name, phone: `+25677200000${i}`, tariffId: TARIFF.id, mode: 'postpaid' });
      assert.equal(r.status, 201, r.text);
      for (const a of c.meters) {
        r = await call('POST', `/api/customers/${c.id}/meters`, a);
        assert.equal(r.status, 200, r.text);
      }
    }

    const invoices = new Map<string, { id: number; totalMinor: number; txId: number; bill: Bill }>();
    for (const c of plan) {
      r = await call('POST', `/api/customers/${c.id}/invoices/${month}`);
      assert.equal(r.status, 200, r.text);
      const inv = r.json.invoice as { id: number; totalMinor: number; txId: number; bill: Bill };
      invoices.set(c.id, inv);

      // Independent re-rating: the meters' intervals straight from the store, within each assignment.
      const stored = c.meters.flatMap((a) => intervals(sys.db, a.meter, Math.max(fromMs, a.from), toMs).map((x) => ({ ...x, meterKey: a.meter })));
      // The simulator's counters are sound: nothing of its month may be held back as impossible.
      assert.deepEqual(
        stored.filter((x) => x.status === 'quarantined').map((x) => `${x.meterKey} ${x.startMs}: ${x.reason}`),
        [],
        `${c.id}: no quarantined intervals`,
      );
      const own = stored.map((x) => ({ meterKey: x.meterKey, startMs: x.startMs, kWh: x.energyImportKWh ?? 0 }));
      const days = (toMs - fromMs) / 86_400_000;
      const expectedIntervals = c.meters.reduce((s, a) => s + (toMs - Math.max(fromMs, a.from)) / 900_000, 0);
      assert.ok(own.length >= expectedIntervals - 2 * c.meters.length, `${c.id}: ${own.length} of ${expectedIntervals} intervals recorded over ${days} days`);
      const kWh = own.reduce((s, x) => s + x.kWh, 0);
      assert.ok(kWh > 1, `${c.id} consumed ${kWh} kWh`);
      // Fixed charge prorated to the local days with a meter (issue 8): counted here by hand from the plan,
      // not from the stored assignments. Kampala has no DST, so a local day is 24 h from the month's start.
      const served = Array.from({ length: days }, (_, d) => fromMs + (d + 1) * 86_400_000).filter((dayEnd) => c.meters.some((a) => a.from < dayEnd)).length;
      if (c.id === 'c3') assert.equal(served, days - 9, 'c3 pays the fixed charge from the 10th only');
      const fixedLine = inv.bill.lines.find((l) => l.kind === 'fixed');
      assert.equal(fixedLine?.amountMinor, halfEven(FIXED_MONTHLY_MINOR * served, days), `${c.id}: fixed charge for ${served} of ${days} days`);
      const rerated = rate(own, TARIFF, { fromMs, toMs }, TZ, { service: c.meters.map((a) => ({ fromMs: a.from, toMs: null })) });
      assert.equal(inv.totalMinor, rerated.totalMinor, `${c.id}: invoice ${inv.totalMinor} = re-rated ${rerated.totalMinor}`);
      assert.deepEqual(inv.bill.lines, rerated.lines);
      assert.ok(inv.bill.lines.some((l) => l.kind === 'fixed') && inv.bill.lines.some((l) => l.kind === 'tax' && l.taxName === 'VAT'));
      assert.equal(
        inv.bill.lines.reduce((s, l) => s + l.amountMinor, 0),
        inv.totalMinor,
      );

      // The ledger: the invoice transaction moves the customer's receivable by exactly the total.
      r = await call('GET', `/api/customers/${c.id}/statement?from=${fromMs}`);
      assert.equal(r.status, 200, r.text);
      const rows = r.json.rows as Array<{ txId: number; kind: string; amountMinor: number }>;
      const posted = rows.filter((x) => x.txId === inv.txId);
      assert.equal(posted.length, 1);
      assert.equal(posted[0]?.kind, 'invoice');
      assert.equal(posted[0].amountMinor, inv.totalMinor);
      assert.equal(r.json.closingMinor, inv.totalMinor, 'nothing else moved the account');
      r = await call('GET', `/api/customers/${c.id}`);
      assert.equal(r.json.balanceMinor, inv.totalMinor);

      // Invoicing again returns the same invoice and posts nothing.
      r = await call('POST', `/api/customers/${c.id}/invoices/${month}`);
      assert.equal((r.json.invoice as { id: number }).id, inv.id);
      assert.equal(sys.billing.ledger.balance(`customer:${c.id}`), inv.totalMinor);
    }
    const c1 = invoices.get('c1');
    assert.ok(c1);
    assert.ok(
      c1.bill.lines.some((l) => l.kind === 'energy' && /Block 2/.test(l.description)),
      'two meters for a month go past the lifeline block',
    );

    // A cash payment is allocated to the invoice; the PDF shows it.
    const paid = Math.floor(c1.totalMinor / 2);
    r = await call('POST', '/api/payments/cash', { account: 'c1', amountMinor: paid, currency: 'UGX', receipt: 'RCPT-PP-1' });
    assert.equal(r.status, 200, r.text);
    r = await call('GET', '/api/customers/c1');
    assert.deepEqual(
      (r.json.openInvoices as Array<{ id: number; openMinor: number }>).map((o) => [o.id, o.openMinor]),
      [[c1.id, c1.totalMinor - paid]],
    );

    // Downloads: CSV and PDF.
    r = await call('GET', `/api/invoices/${c1.id}.csv`);
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-disposition') ?? '', new RegExp(`attachment; filename="invoice-${c1.id}.csv"`));
    const totalRow = r.text.trim().split('\n').at(-1)?.split(',');
    assert.equal(totalRow?.[3], 'total');
    assert.equal(Number(totalRow[8]), c1.totalMinor, 'UGX: the CSV total in major units equals the minor units');

    const res = await fetch(`${sys.url}/api/invoices/${c1.id}.pdf`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/pdf');
    assert.equal(res.headers.get('content-disposition'), `attachment; filename="invoice-${c1.id}.pdf"`);
    const pdf = Buffer.from(await res.arrayBuffer());
    assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
    if (has('pdftotext')) {
      const file = path.join(dir, 'invoice.pdf');
      writeFileSync(file, pdf);
      const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
      assert.ok(text.includes(formatMinor(c1.totalMinor as never, 'UGX')), text);
      assert.ok(text.includes(formatMinor((c1.totalMinor - paid) as never, 'UGX')), 'amount due after the payment');
      assert.match(text, /Okello Hardware/);
      assert.match(text, /meter2[\s\S]*meter3/);
      assert.match(text, /RCPT-PP-1|payment/);
      if (process.env.MGOS_KEEP_INVOICE_PDF) writeFileSync(process.env.MGOS_KEEP_INVOICE_PDF, pdf);
    }
    r = await call('GET', '/api/invoices/99999.pdf');
    assert.equal(r.status, 404);
    // The dashboard sees this month's invoicing (posted now) and the cash payment.
    r = await call('GET', '/api/billing/dashboard');
    assert.equal(r.status, 200);
    const [dash] = (
      r.json as {
        sites: { currency: string; revenueMinor: number; billedMinor: number; paymentsMinor: number; arrearsMinor: number; collectionRate: number | null }[];
      }
    ).sites;
    assert.ok(dash);
    assert.equal(dash.currency, 'UGX');
    assert.ok(dash.revenueMinor > 0 && dash.billedMinor >= dash.revenueMinor, `revenue ${dash.revenueMinor}, billed ${dash.billedMinor}`);
    assert.equal(dash.paymentsMinor, paid);
    assert.ok(dash.arrearsMinor > 0, 'unpaid invoices are arrears');
    assert.ok(dash.collectionRate !== null && Math.abs(dash.collectionRate - paid / dash.billedMinor) < 1e-9);
  } finally {
    await sys.close();
  }
});
