import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { startSystem, type RunningSystem } from '../src/system.js';
import { clockStartingAt } from '../src/util/clock.js';
import { httpClient } from './helpers/http.js';

/**
 * Billing integrity through the running system and HTTP (issue 8 §2, §3 personal data). The site has
 * no no-disconnect windows, and the clock is injected at a fixed Wednesday morning, so nothing here
 * depends on the day or hour the suite runs.
 */
const PASSWORD = 'integrity admin password';
const WEDNESDAY_MORNING = Date.UTC(2026, 2, 11, 7, 0, 0); // 10:00 in Kampala
const TARIFF = {
  id: 'flat',
  name: 'Flat',
  currency: 'UGX',
  versions: [{ version: 1, effectiveFrom: '2026-01-01', energy: { kind: 'flat', priceE4: 2_500_000 } }],
};

test(
  'billing integrity over HTTP: zero credit gets a proposal, the approver is the decider, payments are bounded and in the site currency, refused tariffs leave nothing, viewers see masked phones',
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mgos-integrity-'));
    let sys: RunningSystem | undefined;
    const http = httpClient(() => sys?.url ?? '');
    try {
      const clock = clockStartingAt(WEDNESDAY_MORNING);
      sys = await startSystem({
        config: {
          site: { id: 'integrity', name: 'Integrity', timezone: 'Africa/Kampala' },
          storage: { path: path.join(dir, 'mgos.db') },
          http: { port: 0 },
          sim: { enabled: true, customers: 2, port: 0, relays: true },
          billing: { currency: 'UGX', chargeEveryMs: 3_600_000, maxPaymentMinor: 10_000_000 },
          governance: { noDisconnectWindows: [], noDisconnectWeekdays: [] },
        },
        adminPassword: PASSWORD,
        clock,
        simClock: clockStartingAt(clock()),
        logger: pino({ level: 'silent' }),
      });
      const admin = await http.login('admin', PASSWORD);
      const call = (method: string, url: string, body?: unknown, token = admin) => http.call(method, url, { token, body });
      assert.equal((await call('POST', '/api/users', { username: 'vera', password: 'viewer password 1', role: 'viewer' })).status, 200);
      const viewer = await http.login('vera', 'viewer password 1');

      // A refused tariff changes nothing: an impossible date, another currency. The id stays usable.
      let r = await call('POST', '/api/tariffs', { ...TARIFF, versions: [{ ...TARIFF.versions[0], effectiveFrom: '2026-02-31' }] });
      assert.equal(r.status, 400, r.text);
      assert.match(String(r.json.error), /^versions\.0\.effectiveFrom: that is not a day of the calendar .*; found "2026-02-31"$/);
      r = await call('POST', '/api/tariffs', { ...TARIFF, currency: 'KES' });
      assert.equal(r.status, 400, r.text);
      assert.match(r.text, /currency: found \\"KES\\"; this site bills in UGX/);
      assert.deepEqual((await call('GET', '/api/tariffs')).json.tariffs, []);
      r = await call('POST', '/api/tariffs', TARIFF);
      assert.equal(r.status, 200, r.text);

      // A customer created at zero credit (it never crosses from above zero) gets one disconnect proposal.
      r = await call('POST', '/api/customers', { id: 'c2', name: 'Amina', phone: '+256772123456', tariffId: 'flat', mode: 'prepaid', meter: 2 });
      assert.equal(r.status, 201, r.text);
      await sys.billing.chargeNow();
      await sys.billing.chargeNow();
      const pending = async () =>
        ((await call('GET', '/api/proposals?state=pending')).json.proposals as Array<{ id: number; capability: string; asset: { customer: string } }>).filter(
          (p) => p.capability === 'disconnect' && p.asset.customer === 'c2',
        );
      const [proposal, ...more] = await pending();
      assert.ok(proposal, 'a proposal for the customer at zero credit');
      assert.equal(more.length, 0, 'exactly one');

      // The executed proposal names the operator who approved it, as the audit log does.
      r = await call('POST', `/api/proposals/${proposal.id}/approve`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual([(r.json.proposal as { state: string }).state, (r.json.proposal as { decidedBy: string }).decidedBy], ['executed', 'admin']);
      const executed = ((await call('GET', '/api/proposals?state=executed')).json.proposals as Array<{ id: number; decidedBy: string }>).find(
        (p) => p.id === proposal.id,
      );
      assert.equal(executed?.decidedBy, 'admin');
      await sys.billing.chargeNow();
      assert.equal((await pending()).length, 0, 'disconnected: no new proposal');

      // Payments: the site's currency only, and at most billing.maxPaymentMinor. Nothing is stored for a refusal.
      for (const [body, message] of [
        [
          { account: 'c2', amountMinor: 9_007_199_254_740_991, currency: 'UGX', receipt: 'R-HUGE' },
          /amountMinor: found 9007199254740991; a payment on this site may be at most 10000000/,
        ],
        [{ account: 'c2', amountMinor: 5000, currency: 'KES', receipt: 'R-KES' }, /currency: found \\"KES\\"; this site's accounts are in UGX/],
        [{ account: 'c2', amountMinor: 5000, currency: 'XYZ', receipt: 'R-XYZ' }, /currency: found \\"XYZ\\"/],
      ] as const) {
        r = await call('POST', '/api/payments/cash', body);
        assert.equal(r.status, 400, r.text);
        assert.match(r.text, message);
      }
      r = await call('POST', '/api/payments/quote', { provider: 'cash', amountMinor: 9_007_199_254_740_991, currency: 'UGX' });
      assert.equal(r.status, 400, r.text);
      assert.deepEqual((await call('GET', '/api/payments?account=c2')).json.payments, []);
      r = await call('POST', '/api/payments/cash', { account: 'c2', amountMinor: 10_000_000, currency: 'UGX', receipt: 'R-MAX' });
      assert.equal(r.status, 200, r.text);
      // Every page still answers.
      for (const url of ['/api/customers/c2', '/api/billing/dashboard', '/api/customers/c2/statement', '/api/customers'])
        assert.equal((await call('GET', url)).status, 200, url);
      assert.equal((await call('GET', '/api/customers/c2')).json.creditMinor, 10_000_000);

      // Personal data: operators and up see phone numbers, viewers see them masked, everywhere they appear.
      // A mobile-money payment row with the payer's number (MTN is not configured here, so it is stored directly).
      sys.billing.processor.store.insert({
        id: 'momo-1',
        account: 'customer:c2',
        provider: 'mtn',
        msisdn: '256772999888',
        amountMinor: 5000,
        feeMinor: 0,
        payerPaysMinor: 5000,
        bearer: 'operator',
        currency: 'UGX',
        providerRef: null,
        createdMs: clock(),
      });
      assert.match((await call('GET', '/api/payments?account=c2')).text, /256772999888/);
      const asViewer = (url: string) => call('GET', url, undefined, viewer);
      assert.equal(((await call('GET', '/api/customers/c2')).json.customer as { phone: string }).phone, '+256772123456');
      const masked = ((await asViewer('/api/customers/c2')).json.customer as { phone: string }).phone;
      assert.equal(masked, '+256*******56');
      assert.deepEqual(
        ((await asViewer('/api/customers')).json.customers as Array<{ phone: string }>).map((c) => c.phone),
        ['+256*******56'],
      );
      assert.doesNotMatch((await asViewer('/api/customers/c2/statement')).text, /772123456/);
      const payments = (await asViewer('/api/payments?account=c2')).json.payments as Array<{ msisdn: string | null }>;
      assert.deepEqual(payments.map((p) => p.msisdn).sort(), ['256*******88', null]);
      assert.doesNotMatch((await asViewer('/api/proposals')).text, /772123456/);
    } finally {
      await sys?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
