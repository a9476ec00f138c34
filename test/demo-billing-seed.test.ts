import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { UserStore } from '../src/auth/user-store.js';
import { demoSeededAt } from '../src/demo/demo-billing-seed.js';
import { dailyEnergy } from '../src/store/history.js';
import { ZonedClock } from '../src/store/zoned-clock.js';
import { startSystem, type RunningSystem } from '../src/system.js';
import { clockStartingAt } from '../src/util/clock.js';
import { httpClient } from './helpers/http.js';

const local = (s: string): number => Date.parse(`${s}+03:00`);
const PASSWORD = 'demo seed admin password';

interface Row {
  kind: string;
  reference: string;
  description: string;
  energyKWh: number | null;
  atMs: number;
}
type Json = Record<string, unknown>;

/** What the seeding may have written: none of it may grow on a second start. */
function counts(db: RunningSystem['db']): Record<string, number> {
  const n = (sql: string): number => db.prepare<[], number>(sql).pluck().get() ?? -1;
  return {
    tariffs: n('SELECT count(*) FROM billing_tariffs'),
    customers: n('SELECT count(*) FROM billing_customers'),
    assignments: n('SELECT count(*) FROM billing_meter_assignments'),
    payments: n('SELECT count(*) FROM payment_intents'),
    invoices: n('SELECT count(*) FROM billing_invoices'),
    transactions: n('SELECT count(*) FROM billing_transactions'),
    proposals: n('SELECT count(*) FROM governance_proposals'),
    seeds: n('SELECT count(*) FROM demo_seed'),
  };
}

test(
  'the demo seeds its billing on the first start (tariffs, customers, charges, cash and mobile money, an invoice, near zero, a pending disconnect) and a second start adds nothing',
  { timeout: 180_000 },
  async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mgos-demo-seed-'));
    // A Thursday morning in Kampala, early in a month: the 7 days of history reach into last month.
    const clock = clockStartingAt(local('2026-06-04T10:00:00'));
    const start = () => startSystem({ dataDir: dir, httpPort: 0, adminPassword: PASSWORD, logger: pino({ level: 'silent' }), clock });
    let sys: RunningSystem | undefined = await start();
    const { call, login } = httpClient(() => sys?.url ?? '');
    try {
      const admin = await login('admin', PASSWORD);
      const get = async (url: string): Promise<Json> => {
        const r = await call('GET', url, { token: admin });
        assert.equal(r.status, 200, `${url}: ${r.text}`);
        return r.json;
      };
      assert.ok(demoSeededAt(sys.db), 'the seeding is marked done');

      // Tariffs: a block tariff with a lifeline block, and a time-of-use tariff, with fees.
      const tariffs = (await get('/api/tariffs')).tariffs as Array<{
        id: string;
        versions: Array<{ energy: { kind: string; blocks?: Array<{ upToKWh: number | null }> }; fees?: unknown[] }>;
      }>;
      const block = tariffs.find((x) => x.versions[0]?.energy.kind === 'block');
      assert.ok(block, JSON.stringify(tariffs));
      assert.equal(block.versions[0]?.energy.blocks?.[0]?.upToKWh, 15, 'a lifeline block');
      assert.ok(tariffs.some((x) => x.versions[0]?.energy.kind === 'tou'));
      assert.ok(tariffs.every((x) => (x.versions[0]?.fees?.length ?? 0) > 0));

      // Customers: prepaid and postpaid on the demo meters.
      const customers = (await get('/api/customers')).customers as Array<{ id: string; mode: string }>;
      assert.ok(customers.filter((c) => c.mode === 'prepaid').length >= 3 && customers.some((c) => c.mode === 'postpaid'), JSON.stringify(customers));

      // Payments: cash and mobile money (the local Airtel sandbox, credited after its callback and status re-query).
      const intents = sys.db
        .prepare<[], { provider: string; state: string; created_ms: number }>('SELECT provider, state, created_ms FROM payment_intents')
        .all();
      assert.ok(
        intents.some((i) => i.provider === 'cash' && i.state === 'successful'),
        JSON.stringify(intents),
      );
      assert.ok(
        intents.some((i) => i.provider === 'airtel' && i.state === 'successful'),
        JSON.stringify(intents),
      );
      assert.ok(intents.every((i) => i.state === 'successful'));
      // Everything was written at the system clock given to startSystem, not the machine's.
      const t0 = local('2026-06-04T10:00:00');
      assert.ok(
        intents.every((i) => i.created_ms >= t0 && i.created_ms < t0 + 600_000),
        'payments at the injected clock',
      );
      const posted = sys.db.prepare<[], number>('SELECT max(posted_ms) FROM billing_transactions').pluck().get() ?? 0;
      assert.ok(posted >= t0 && posted < t0 + 600_000, `ledger at the injected clock: ${posted}`);

      // Prepaid charges for the history, with readable statement lines.
      const statement = (await get('/api/customers/amina/statement')).rows as Row[];
      const use = statement.find((r) => r.kind === 'consumption');
      assert.ok(use && use.energyKWh !== null && use.energyKWh > 0, JSON.stringify(statement));
      assert.match(use.description, /^Energy \d+ May \d\d:\d\d – 4 Jun \d\d:\d\d, [\d,.]+ kWh$/);
      assert.ok(statement.some((r) => r.kind === 'payment' && /^Cash payment, receipt DEMO-/.test(r.description)));
      assert.ok(statement.every((r) => !/@\d{10,}/.test(r.description)));
      const okello = (await get('/api/customers/okello/statement')).rows as Row[];
      assert.ok(
        okello.some((r) => r.kind === 'payment' && /^Airtel Money payment, transaction /.test(r.description)),
        JSON.stringify(okello),
      );

      // An invoice for last month: one paid in full by mobile money, one half paid (arrears).
      const school = await get('/api/customers/st-jude-school');
      const mill = await get('/api/customers/bosco-mill');
      assert.deepEqual(school.openInvoices, []);
      const open = mill.openInvoices as Array<{ id: number; month: string; totalMinor: number; openMinor: number }>;
      assert.equal(open.length, 1);
      assert.equal(open[0]?.month, '2026-05');
      assert.ok(open[0].openMinor > 0 && open[0].openMinor < open[0].totalMinor);
      const csv = await call('GET', `/api/invoices/${open[0].id}.csv`, { token: admin });
      assert.equal(csv.status, 200);

      // A customer near zero credit, one below it with a pending disconnect proposal.
      const grace = await get('/api/customers/grace');
      assert.ok((grace.creditMinor as number) > 0 && (grace.creditMinor as number) < 5000, `near zero: ${String(grace.creditMinor)}`);
      const moses = await get('/api/customers/moses');
      assert.ok((moses.creditMinor as number) <= 0);
      const pending = (await get('/api/proposals?state=pending')).proposals as Array<{ capability: string; asset: { customer: string } }>;
      assert.deepEqual(
        pending.map((p) => [p.capability, p.asset.customer]),
        [['disconnect', 'moses']],
      );

      // The dashboard's collection rate is a share of what was due.
      const [dash] = (await get('/api/billing/dashboard')).sites as Array<{ collectionRate: number | null; billedMinor: number; paymentsMinor: number }>;
      assert.ok(dash && dash.collectionRate !== null && dash.collectionRate > 0 && dash.collectionRate <= 1, JSON.stringify(dash));

      // The operator overview for the injected day.
      sys.alarms.store.raise({
        rule: 'meter_offline',
        subject: 'meter12',
        severity: 'major',
        condition: 'offline',
        message: 'meter12 gave no valid reading for 3 poll cycles',
      });
      const raisedAt = clock();
      const ov = await get('/api/overview/operator');
      assert.equal(ov.day, '2026-06-04');
      assert.equal(ov.month, '2026-06');
      const energy = ov.energyToday as {
        site: { meter: string; importKWh: number; intervals: number };
        topCustomers: Array<{ customerId: string; importKWh: number }>;
      };
      const dayStart = new ZonedClock('Africa/Kampala').dayRange('2026-06-04')[0];
      const main = dailyEnergy(sys.db, 'meter100', dayStart, clock(), 'Africa/Kampala')[0];
      assert.equal(energy.site.meter, 'meter100');
      assert.ok(energy.site.importKWh > 0 && Math.abs(energy.site.importKWh - (main?.importKWh ?? 0)) < 1e-6, `${energy.site.importKWh} vs ${main?.importKWh}`);
      assert.ok(energy.site.intervals >= 39 && energy.site.intervals <= 40, `${energy.site.intervals} closed intervals from 00:00 to 10:00`);
      assert.equal(energy.topCustomers.length, 5);
      for (let i = 1; i < 5; i++) assert.ok((energy.topCustomers[i - 1]?.importKWh ?? 0) >= (energy.topCustomers[i]?.importKWh ?? 0));
      const offline = ov.offlineMeters as Array<{ meter: string; reason: string; since: number; cause: string; links: { alarm: string } }>;
      assert.equal(offline.length, 1);
      assert.equal(offline[0]?.meter, 'meter12');
      assert.match(offline[0].reason, /no valid reading/);
      assert.ok(Math.abs(offline[0].since - raisedAt) < 5000);
      assert.equal(offline[0].cause, 'meter');
      assert.equal((await call('GET', offline[0].links.alarm, { token: admin })).status, 200);
      const alarms = ov.alarms as { open: number; bySeverity: Record<string, number> };
      assert.ok(alarms.open >= 1 && (alarms.bySeverity.major ?? 0) >= 1);
      const arrears = ov.arrears as { totalMinor: number; customers: number; currency: string };
      assert.equal(arrears.currency, 'UGX');
      assert.ok(arrears.customers >= 2 && arrears.totalMinor >= open[0].openMinor - (moses.creditMinor as number));
      assert.deepEqual((ov.disconnectQueue as { pending: number }).pending, 1);
      const revenue = ov.revenueMonth as { month: string; revenueMinor: number; collectionRate: number | null };
      assert.equal(revenue.month, '2026-06');
      assert.ok(revenue.revenueMinor > 0);
      assert.equal(revenue.collectionRate, dash.collectionRate);

      // Manual disconnect and reconnect of a customer, by an operator, through governance and the audit log.
      const users = new UserStore(sys.db, clock);
      await users.create('viewer1', 'viewer password 123', 'viewer');
      const viewer = await login('viewer1', 'viewer password 123');
      assert.equal((await call('GET', '/api/customers/amina/supply', { token: viewer })).status, 200);
      assert.equal((await call('POST', '/api/customers/amina/disconnect', { token: viewer, body: { reason: 'x' } })).status, 403);
      let r = await call('POST', '/api/customers/amina/disconnect', { token: admin, body: { reason: 'meter tampering found on site' } });
      assert.equal(r.status, 200, r.text);
      assert.equal((r.json.supply as { disconnected: boolean }).disconnected, true);
      r = await call('POST', '/api/customers/amina/reconnect', { token: admin, body: { reason: 'seal replaced' } });
      assert.equal(r.status, 200, r.text);
      assert.equal((r.json.supply as { disconnected: boolean }).disconnected, false);
      const audit = (await get(`/api/audit?from=${t0}`)).entries as Array<{ actor: string; action: string; customer: string | null; detail: string }>;
      assert.ok(
        audit.some((e) => e.actor === 'admin' && e.action === 'proposed' && e.customer === 'amina' && /tampering/.test(e.detail)),
        JSON.stringify(audit),
      );
      assert.ok(audit.some((e) => e.action === 'relay-opened' && e.customer === 'amina'));
      assert.ok(audit.some((e) => e.actor === 'admin' && e.action === 'override' && /seal replaced/.test(e.detail)));
      assert.ok(audit.some((e) => e.action === 'relay-closed' && e.customer === 'amina'));
      assert.equal((await call('POST', '/api/customers/nobody/disconnect', { token: admin, body: { reason: 'x' } })).status, 404);

      // A second start seeds nothing.
      const first = counts(sys.db);
      await sys.close();
      sys = undefined;
      sys = await start();
      assert.deepEqual(counts(sys.db), first);
    } finally {
      await sys?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  'the demo seeding on a Saturday night in mid-month: last month is invoiced (fixed charge and fees), the disconnect queue is not empty',
  { timeout: 120_000 },
  async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mgos-demo-seed-night-'));
    const clock = clockStartingAt(local('2026-06-20T23:30:00'));
    let sys: RunningSystem | undefined;
    try {
      sys = await startSystem({ dataDir: dir, httpPort: 0, adminPassword: PASSWORD, logger: pino({ level: 'silent' }), clock });
      const { call, login } = httpClient(() => sys?.url ?? '');
      const admin = await login('admin', PASSWORD);
      const mill = (await call('GET', '/api/customers/bosco-mill', { token: admin })).json;
      const open = mill.openInvoices as Array<{ id: number; month: string; totalMinor: number }>;
      assert.equal(open[0]?.month, '2026-05');
      assert.ok(open[0].totalMinor > 0);
      const grace = (await call('GET', '/api/customers/grace', { token: admin })).json;
      assert.ok((grace.creditMinor as number) > 0 && (grace.creditMinor as number) < 5000, `near zero: ${String(grace.creditMinor)}`);
      const pending = (await call('GET', '/api/proposals?state=pending', { token: admin })).json.proposals as unknown[];
      assert.equal(pending.length, 1, 'the demo allows disconnect proposals at any hour');
    } finally {
      await sys?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
