import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import type { Browser } from 'playwright-core';
import { startSystem, type RunningSystem } from '../src/system.js';
import { clockStartingAt } from '../src/util/clock.js';
import { browserSkipReason, launchChromium, until } from './helpers/browser.js';
import { httpClient } from './helpers/http.js';
import { createUser, PHONE, shoot, signIn, type UiSession } from './helpers/ui-session.js';

/** Billing pages against the real system: a prepaid customer on meter 2 runs out of credit at 3 kW. */
const PASSWORD = 'billing-admin-pass-1';
const OPERATOR = { username: 'otto_operator', password: 'operator-pass-1' };
/** A Wednesday, 10:00 in Kampala: disconnects are allowed. */
const WEDNESDAY_MORNING = Date.UTC(2026, 10, 25, 7, 0, 0);
/** Four weeks earlier: the postpaid shop gets its meter in time for an October invoice. */
const OCTOBER_28 = Date.UTC(2026, 9, 28, 7, 0, 0);
const TARIFF = {
  id: 'test-expensive',
  name: 'Test tariff (expensive)',
  currency: 'UGX',
  versions: [{ version: 1, effectiveFrom: '2026-01-01', energy: { kind: 'flat', priceE4: 100_000 * 10_000 }, fixedMonthlyMinor: 5000 }],
};

describe('billing pages in Chromium', { skip: browserSkipReason(), timeout: 300_000 }, () => {
  let dir: string;
  let system: RunningSystem;
  let browser: Browser;
  let token: string;
  const sessions: UiSession[] = [];
  const http = httpClient(() => system.url);
  const call = (method: string, url: string, body?: unknown) => http.call(method, url, { token, body });
  let invoiceId = 0;
  const clock = clockStartingAt(OCTOBER_28);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mgos-browser-billing-'));
    system = await startSystem({
      config: {
        site: { id: 'billing_ui', name: 'Billing UI grid', timezone: 'Africa/Kampala' },
        poll: { intervalMs: 1000 },
        storage: { path: join(dir, 'mgos.db'), flushIntervalMs: 1000 },
        http: { host: '127.0.0.1', port: 0 },
        sim: { enabled: true, customers: 4, port: 0, relays: true },
        billing: { currency: 'UGX', lowBalanceThresholdsMinor: [200], chargeEveryMs: 500, provisionalFromRawReadings: true },
        governance: { noDisconnectWindows: [], noDisconnectWeekdays: [] },
      },
      adminPassword: PASSWORD,
      // The whole system (governance, audit log, and the UI through the server's time) follows this
      // clock; the simulated meters keep their own, so moving the site's clock makes no energy jump.
      clock,
      simClock: clockStartingAt(WEDNESDAY_MORNING),
      logger: pino({ level: 'silent' }),
    });
    token = await http.login('admin', PASSWORD);
    await createUser(system.url, token, OPERATOR.username, OPERATOR.password, 'operator');
    assert.ok(system.sim);
    system.sim.model.setLoadOverride(2, { watts: 3000, powerFactor: 0.95 });
    let r = await call('POST', '/api/tariffs', TARIFF);
    assert.equal(r.status, 200, r.text);
    r = await call('POST', '/api/customers', { id: 'c3', name: 'Bosco Shop', phone: '+256772000333', tariffId: TARIFF.id, mode: 'postpaid', meter: 3 });
    assert.equal(r.status, 201, r.text);
    clock.moveTo(WEDNESDAY_MORNING);
    token = await http.login('admin', PASSWORD); // four weeks on, the first session has expired
    r = await call('POST', '/api/customers', { id: 'c2', name: 'Amina', phone: '+256772123456', tariffId: TARIFF.id, mode: 'prepaid', meter: 2 });
    assert.equal(r.status, 201, r.text);
    r = await call('POST', '/api/customers/c3/invoices/2026-10');
    assert.equal(r.status, 200, r.text);
    invoiceId = (r.json.invoice as { id: number }).id;
    r = await call('POST', '/api/payments/cash', { account: 'c2', amountMinor: 300, currency: 'UGX', receipt: 'RCPT-0001' });
    assert.equal(r.status, 200, r.text);
    browser = await launchChromium();
  });

  after(async () => {
    for (const s of sessions) await s.context.close().catch(() => undefined);
    // Unset when before() failed.
    await (browser as Browser | undefined)?.close();
    await (system as RunningSystem | undefined)?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('an operator approves a disconnect, records a cash payment, and downloads an invoice', async () => {
    const s = await signIn(browser, system.url, OPERATOR.username, OPERATOR.password);
    sessions.push(s);
    const { page } = s;
    // Credit runs out within seconds at 3 kW: the disconnect waits in the queue for an operator.
    await page.getByTestId('nav-billing').click();
    await page.getByTestId('billing-tab-proposals').click();
    // The Disconnects page counts what waits and leads to the one approvals queue.
    await page.getByTestId('queue-count').waitFor({ timeout: 30_000 });
    await shoot(page, 'billing-proposals');
    await page.getByTestId('approvals-link').click();
    const row = page.locator('[data-testid=proposal][data-capability=supply-disconnect][data-target="relay2/SetClosed"]');
    await row.waitFor({ timeout: 30_000 });
    assert.match(await row.innerText(), /c2/);
    await row.getByTestId('proposal-approve').click();
    await page.getByTestId('confirm-yes').click();
    await page.getByTestId('approval-done').waitFor();
    assert.match(await page.getByTestId('approval-done').innerText(), /executed/);
    await until('meter2 relay open', () => (system.sim?.model.isLoadConnected(2) === false ? true : undefined));
    await page.getByTestId('nav-billing').click();
    await page.getByTestId('billing-tab-proposals').click();
    await page.locator('[data-testid=audit-row][data-action=relay-opened]').first().waitFor();

    // The meter page shows 0 W; the customer list shows the customer disconnected.
    await page.getByTestId('nav-billing').click();
    await page.locator('[data-testid=customer-row][data-id=c2] [data-testid=disconnected]').waitFor();
    await shoot(page, 'billing-customers');

    // Record cash: the quote first, then the payment; the relay closes again.
    await page.locator('[data-testid=customer-row][data-id=c2] a').first().click();
    await page.getByTestId('cash-form').waitFor();
    const before = await page.getByTestId('balance').innerText();
    await page.getByLabel('Amount (UGX)').fill('500000');
    await page.getByLabel('Receipt number').fill('RCPT-0002');
    await page.getByTestId('cash-submit').click();
    await page.getByTestId('quote-credit').waitFor();
    assert.match(await page.getByTestId('quote-credit').innerText(), /500,000/);
    await page.getByTestId('cash-submit').click();
    await page.getByTestId('cash-done').waitFor();
    const afterText = await page.getByTestId('balance').innerText();
    assert.notEqual(afterText, before);
    await until('the relay closes after the payment', () => (system.sim?.model.isLoadConnected(2) ? true : undefined));
    await page.locator('[data-testid=payment-row]').first().waitFor();
    await shoot(page, 'billing-customer-prepaid');

    // Postpaid: the invoice made in setup is downloaded from the customer page.
    await page.goto(`${system.url}/#/billing/customers/c3`);
    const link = page.locator(`[data-testid=invoice-row][data-id="${invoiceId}"] [data-testid=invoice-csv]`);
    await link.waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const text = await readFile(await download.path(), 'utf8');
    assert.match(text, /2026-10|c3/);
    await shoot(page, 'billing-customer-postpaid');

    await page.getByTestId('nav-billing').click();
    await page.getByTestId('billing-tab-tariffs').click();
    await page.getByTestId('tariff-version').first().waitFor();
    await shoot(page, 'billing-tariffs');
    assert.deepEqual(s.problems, []);
  });

  test('the billing pages fit a 375 px phone', async () => {
    const s = await signIn(browser, system.url, 'admin', PASSWORD, PHONE);
    sessions.push(s);
    const { page } = s;
    for (const [hash, ready, name] of [
      ['#/billing', 'customer-row', 'billing-customers'],
      ['#/billing/proposals', 'audit-row', 'billing-proposals'],
      ['#/billing/customers/c2', 'cash-form', 'billing-customer-prepaid'],
      ['#/billing/customers/c3', 'invoice-row', 'billing-customer-postpaid'],
      ['#/billing/tariffs', 'tariff-version', 'billing-tariffs'],
    ] as const) {
      await page.goto(`${system.url}/${hash}`);
      await page.getByTestId(ready).first().waitFor();
      await shoot(page, name);
    }
    assert.deepEqual(s.problems, []);
  });
});
