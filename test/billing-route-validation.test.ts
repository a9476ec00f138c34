import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ledger } from '../src/billing/ledger.js';
import { registerBillingRoutes } from '../src/billing-runtime/routes.js';
import type { PrepaidRuntime } from '../src/billing-runtime/prepaid-runtime.js';
import { clockStartingAt } from '../src/util/clock.js';
import { startApiServer } from './helpers/api-server.js';
import { httpClient } from './helpers/http.js';
import { tempDb } from './helpers/temp-db.js';

/**
 * The billing routes answer a refused tariff or customer like every other route (issue 8 §3): 400 with
 * `error` as sentences that name the field, what is allowed and what was found, and per-field `issues`;
 * never zod's raw JSON. The real API server, real HTTP, a fixed clock.
 */
const PASSWORD = 'billing admin password';
const TARIFF = {
  id: 'flat',
  name: 'Flat',
  currency: 'UGX',
  versions: [{ version: 1, effectiveFrom: '2026-01-01', energy: { kind: 'flat', priceE4: 2_500_000 } }],
};

test('a bad tariff and a bad customer answer 400 in sentences with per-field issues, and nothing is stored', async (t) => {
  const db = tempDb(t);
  const ledger = new Ledger(db, 'test', 'UGX');
  const prepaid = { available: () => 0 } as unknown as PrepaidRuntime; // only read for prepaid customers' views
  const server = await startApiServer({
    users: [['admin', PASSWORD, 'admin']],
    extraRoutes: [
      (routes) =>
        registerBillingRoutes(routes, {
          db,
          ledger,
          timeZone: 'Africa/Kampala',
          prepaid,
          meterExists: () => false,
          now: clockStartingAt(Date.UTC(2026, 2, 11, 7)),
        }),
    ],
  });
  t.after(() => server.close());
  const http = httpClient(() => server.base);
  const token = await http.login('admin', PASSWORD);
  const post = (url: string, body: unknown) => http.call('POST', url, { token, body });

  let r = await post('/api/tariffs', {
    ...TARIFF,
    versions: [{ ...TARIFF.versions[0], effectiveFrom: '2026-02-31', energy: { kind: 'flat', priceE4: 'cheap' } }],
  });
  assert.equal(r.status, 400, r.text);
  assert.equal(
    r.json.error,
    'versions.0.effectiveFrom: that is not a day of the calendar (month 01-12, day within that month); write YYYY-MM-DD; found "2026-02-31"; versions.0.energy.priceE4: must be a number; found "cheap"',
  );
  assert.deepEqual(r.json.issues, [
    {
      field: 'versions.0.effectiveFrom',
      message: 'that is not a day of the calendar (month 01-12, day within that month); write YYYY-MM-DD; found "2026-02-31"',
    },
    { field: 'versions.0.energy.priceE4', message: 'must be a number; found "cheap"' },
  ]);
  assert.doesNotMatch(r.text, /"code":|expected number, received/, 'no zod JSON or zod wording');

  r = await post('/api/tariffs', { ...TARIFF, versions: [] });
  assert.equal(r.status, 400, r.text);
  assert.equal(r.json.error, 'versions: must have at least 1 item; found []');
  r = await post('/api/tariffs', 'not a tariff');
  assert.equal(r.status, 400, r.text);
  assert.equal(r.json.error, 'body: must be an object; found "not a tariff"');
  // The site's own rule (its currency) is still a sentence of its own.
  r = await post('/api/tariffs', { ...TARIFF, currency: 'KES' });
  assert.equal(r.status, 400, r.text);
  assert.match(String(r.json.error), /^currency: found "KES"; this site bills in UGX/);
  assert.deepEqual((await http.call('GET', '/api/tariffs', { token })).json.tariffs, [], 'a refused tariff is not stored');

  // A customer refused by the customer record's own schema (the phone number) answers the same way.
  assert.equal((await post('/api/tariffs', TARIFF)).status, 200);
  r = await post('/api/customers', { id: 'c1', name: 'Amina', phone: '0772 123456', tariffId: 'flat', mode: 'prepaid' });
  assert.equal(r.status, 400, r.text);
  assert.equal(r.json.error, 'phone: expected an E.164 number such as +256772123456; found "0772 123456"');
  assert.deepEqual(r.json.issues, [{ field: 'phone', message: 'expected an E.164 number such as +256772123456; found "0772 123456"' }]);
  assert.equal((await http.call('GET', '/api/customers/c1', { token })).status, 404, 'a refused customer is not stored');
});
