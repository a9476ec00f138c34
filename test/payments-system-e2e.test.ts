import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { MtnSandbox } from '../src/payments/sandbox/mtn.js';
import { startSystem, type RunningSystem } from '../src/system.js';
import { httpClient } from './helpers/http.js';

/** A port that is free now, so the system's callback URL can be known before it starts. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

test('a mobile-money payment through the running system: MTN sandbox callback, verified, credited once to the customer', async () => {
  const creds = { subscriptionKey: 'sub-key', apiUserId: randomUUID(), apiKey: 'api-key-1' };
  // The MTN sandbox only takes EUR, as MTN's own sandbox does.
  const sandbox = new MtnSandbox({ ...creds, providerCallbackHost: '127.0.0.1' });
  const baseUrl = await sandbox.start();
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-pay-sys-'));
  let sys: RunningSystem | undefined;
  const { call, login } = httpClient(() => sys?.url ?? '');
  try {
    sys = await startSystem({
      config: {
        site: { id: 'paysite', name: 'Pay site', timezone: 'Africa/Kampala' },
        storage: { path: path.join(dir, 'mgos.db') },
        http: { port },
        sim: { enabled: true, customers: 2, port: 0 },
        billing: { currency: 'EUR' },
        payments: { mtn: { baseUrl, ...creds, targetEnvironment: 'sandbox', callbackUrl: `http://127.0.0.1:${port}/api/payments/callbacks/mtn` } },
      },
      adminPassword: 'payments admin password',
      logger: pino({ level: 'silent' }),
    });
    const admin = await login('admin', 'payments admin password');
    let r = await call('POST', '/api/tariffs', {
      token: admin,
      body: {
        id: 'eur-flat',
        name: 'EUR flat',
        currency: 'EUR',
        versions: [{ version: 1, effectiveFrom: '2026-01-01', energy: { kind: 'flat', priceE4: 25 * 10_000 } }],
      },
    });
    assert.ok(r.status === 200 || r.status === 201, r.text);
    r = await call('POST', '/api/customers', {
      token: admin,
      body: { id: 'c2', name: 'Amina', phone: '+256772123456', tariffId: 'eur-flat', mode: 'prepaid', meter: 2 },
    });
    assert.ok(r.status === 200 || r.status === 201, r.text);
    r = await call('POST', '/api/payments', {
      token: admin,
      body: { account: 'c2', provider: 'mtn', msisdn: '46733123999', amountMinor: 5000, currency: 'EUR' },
    });
    assert.ok(r.status === 200 || r.status === 201 || r.status === 202, r.text);
    await sandbox.settle(); // the sandbox approves and calls our callback URL
    const deadline = Date.now() + 5000;
    let payments: { state: string; amountMinor: number }[] = [];
    while (Date.now() < deadline) {
      payments = ((await call('GET', '/api/payments?account=c2', { token: admin })).json.payments as typeof payments | undefined) ?? [];
      if (payments[0]?.state === 'successful') break;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(payments[0]?.state, 'successful', JSON.stringify(payments));
    assert.equal(sandbox.deliveries[0]?.status, 200, 'our callback endpoint accepted the notification');
    const customer = await call('GET', '/api/customers/c2', { token: admin });
    assert.equal(customer.status, 200, customer.text);
    assert.equal(customer.json.creditMinor, 5000, 'the customer was credited');
    // One payment row in the ledger (credits carry the ledger's minus sign on a prepaid account).
    const statement = await call('GET', `/api/customers/c2/statement?from=0&to=${Date.now() + 60_000}`, { token: admin });
    assert.equal(statement.status, 200, statement.text);
    assert.equal(statement.json.closingMinor, -5000, statement.text);
    assert.equal((statement.json.rows as unknown[]).length, 1);
  } finally {
    await sys?.close();
    await sandbox.stop();
  }
});
