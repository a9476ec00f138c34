import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { clockStartingAt, type Clock } from '../src/util/clock.js';
import { startSystem } from '../src/system.js';
import { httpClient } from './helpers/http.js';

/**
 * Prepaid loop on the simulator, through startSystem and HTTP. The 15-minute intervals the prepaid
 * charger posts to the ledger do not close in a short test, so the site runs with
 * billing.provisionalFromRawReadings: the available credit is the ledger credit minus the tariff price
 * of the energy since the last charged interval, read from the raw EnergyImport counter. The ledger
 * itself is only charged for closed intervals (none close here unless the test crosses a quarter hour).
 */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const PASSWORD = 'correct horse battery';
/** A Wednesday, 10:00 in Kampala (UTC+3): inside the allowed window. */
const WEDNESDAY_MORNING = Date.UTC(2026, 10, 25, 7, 0, 0);
/** The same Wednesday, 21:00 in Kampala: inside the default night window (18:00-08:00). */
const WEDNESDAY_NIGHT = Date.UTC(2026, 10, 25, 18, 0, 0);
/** The next morning, Thursday 09:00 in Kampala: the window is open again. */
const THURSDAY_MORNING = Date.UTC(2026, 10, 26, 6, 0, 0);

/** UGX 100,000/kWh: at 3 kW that is about UGX 83 per second, so UGX 300 of credit lasts a few seconds. */
const TARIFF = {
  id: 'test-expensive',
  name: 'Test tariff (expensive)',
  currency: 'UGX',
  versions: [{ version: 1, effectiveFrom: '2026-01-01', energy: { kind: 'flat', priceE4: 100_000 * 10_000 } }],
};

function config(dir: string, governance: Record<string, unknown>) {
  return {
    site: { id: 'prepaid_e2e', name: 'Prepaid e2e', timezone: 'Africa/Kampala' },
    poll: { intervalMs: 1000 },
    storage: { path: path.join(dir, 'mgos.db'), flushIntervalMs: 1000 },
    http: { port: 0 },
    sim: { enabled: true, customers: 4, port: 0, relays: true },
    billing: { currency: 'UGX', lowBalanceThresholdsMinor: [200], chargeEveryMs: 500, provisionalFromRawReadings: true },
    governance,
  };
}

async function until<T>(what: string, fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await fn();
    if (v) return v;
    await sleep(250);
  }
  return assert.fail(`timed out waiting for: ${what}`);
}

async function setUp(governance: Record<string, unknown>, clock: Clock) {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-prepaid-'));
  const sys = await startSystem({
    config: config(dir, governance),
    adminPassword: PASSWORD,
    clock,
    simClock: clockStartingAt(clock()),
    logger: pino({ level: 'silent' }),
  });
  const http = httpClient(() => sys.url);
  const token = await http.login('admin', PASSWORD);
  const call = (method: string, url: string, body?: unknown) => http.call(method, url, { token, body });
  assert.ok(sys.sim);
  sys.sim.model.setLoadOverride(2, { watts: 3000, powerFactor: 0.95 });
  const power = async (): Promise<number | undefined> => {
    const r = await call('GET', '/api/meters/meter2');
    assert.equal(r.status, 200, r.text);
    const v = (r.json.values as Record<string, { value?: number; quality?: string }>).ActivePower;
    return v?.quality === 'GOOD' ? v.value : undefined;
  };
  await until('meter2 draws about 3 kW', async () => ((await power()) ?? 0) > 2500);
  let r = await call('POST', '/api/tariffs', TARIFF);
  assert.equal(r.status, 200, r.text);
  r = await call('POST', '/api/customers', { id: 'c2', name: 'Amina', phone: '+256772123456', tariffId: TARIFF.id, mode: 'prepaid', meter: 2 });
  assert.equal(r.status, 201, r.text);
  return { sys, dir, call, power };
}

async function pendingDisconnects(call: (m: string, u: string, b?: unknown) => Promise<{ status: number; json: Record<string, unknown> }>) {
  const r = await call('GET', '/api/proposals?state=pending');
  assert.equal(r.status, 200);
  return (r.json.proposals as Array<{ id: number; capability: string; asset: { meter: number; customer: string } }>).filter(
    (p) => p.capability === 'disconnect' && p.asset.meter === 2,
  );
}

test('prepaid loop: credit runs out, disconnect approved, relay opens, payment reconnects, all audited', async () => {
  const { sys, dir, call, power } = await setUp({ noDisconnectWindows: [], noDisconnectWeekdays: [] }, clockStartingAt(WEDNESDAY_MORNING));
  try {
    let r = await call('POST', '/api/payments/cash', { account: 'c2', amountMinor: 300, currency: 'UGX', receipt: 'RCPT-0001' });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal((r.json.payment as { state: string }).state, 'successful');
    // The receipt is idempotent: the same receipt number again is refused, nothing credited twice.
    r = await call('POST', '/api/payments/cash', { account: 'c2', amountMinor: 300, currency: 'UGX', receipt: 'RCPT-0001' });
    assert.equal(r.status, 409);
    r = await call('GET', '/api/customers/c2');
    assert.equal(r.json.creditMinor, 300);

    // Credit runs out within seconds at 3 kW: the system proposes a disconnect and waits for an operator.
    const [proposal] = await until(
      'a pending disconnect proposal for meter 2',
      async () => (await pendingDisconnects(call))[0] && (await pendingDisconnects(call)),
    );
    assert.ok(proposal);
    assert.equal(proposal.asset.customer, 'c2');
    assert.ok(((await power()) ?? 0) > 2500, 'supervised: nothing is switched before an operator approves');

    r = await call('POST', `/api/proposals/${proposal.id}/approve`);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal((r.json.proposal as { state: string }).state, 'executed');
    assert.equal(sys.billing.simRelays[0]?.coil(0), true, 'relay 1 of the simulated module (meter 2) is energised = open (NC wiring)');
    assert.equal(sys.sim?.model.isLoadConnected(2), false);
    await until('meter2 reads 0 W', async () => (await power()) === 0);

    // A payment brings the credit above zero: the relay closes by itself and consumption resumes.
    r = await call('POST', '/api/payments/cash', { account: 'customer:c2', amountMinor: 500_000, currency: 'UGX', receipt: 'RCPT-0002' });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    await until('the relay closes after the payment', () => sys.sim?.model.isLoadConnected(2));
    await until('meter2 draws power again', async () => ((await power()) ?? 0) > 2500);
    r = await call('GET', '/api/customers/c2');
    assert.ok((r.json.availableCreditMinor as number) > 0, JSON.stringify(r.json));

    // The audit log has each step with who did it.
    r = await call('GET', '/api/audit');
    const entries = r.json.entries as Array<{ actor: string; action: string; proposalId: number | null; meter: number | null }>;
    const steps = entries.filter((e) => e.meter === 2).map((e) => `${e.action} by ${e.actor}`);
    for (const step of ['proposed by system', 'approved by admin', 'relay-opened by system', 'proposed by system', 'relay-closed by system']) {
      const i = steps.indexOf(step);
      assert.ok(i >= 0, `audit has "${step}": ${steps.join(', ')}`);
      steps.splice(0, i + 1);
    }

    // Accounts are normalised at the edge: `c2` and `customer:c2` list the same payments; unknown accounts are refused.
    for (const account of ['c2', 'customer:c2']) {
      r = await call('GET', `/api/payments?account=${encodeURIComponent(account)}`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.account, 'customer:c2');
      const listed = r.json.payments as Array<{ account: string; providerRef: string }>;
      assert.deepEqual(listed.map((p) => p.providerRef).sort(), ['RCPT-0001', 'RCPT-0002'], account);
      assert.ok(listed.every((p) => p.account === 'customer:c2'));
    }
    r = await call('GET', '/api/payments?account=c99');
    assert.equal(r.status, 404, r.text);
    assert.match(r.text, /c99/);
    r = await call('POST', '/api/payments/cash', { account: 'customer:nobody', amountMinor: 100, currency: 'UGX', receipt: 'RCPT-0999' });
    assert.equal(r.status, 404, r.text);
    assert.match(r.text, /customer:nobody/);

    // Statement: two cash payments on the customer's account.
    r = await call('GET', '/api/customers/c2/statement');
    assert.equal(r.status, 200, r.text);
    assert.equal((r.json.rows as Array<{ kind: string }>).filter((x) => x.kind === 'payment').length, 2);

    // Before paying, the customer is shown the amount, the fee and the energy it buys at their tariff.
    const quote = await call('POST', '/api/payments/quote', { provider: 'cash', amountMinor: 500_000, currency: 'UGX', account: 'c2' });
    assert.equal(quote.status, 200, JSON.stringify(quote.json));
    assert.equal(quote.json.feeMinor, 0);
    assert.equal(quote.json.creditMinor, 500_000);
    assert.equal(quote.json.energyKwh, 5, 'UGX 500,000 at UGX 100,000/kWh buys 5 kWh');
    // Billing routes answer: tariffs list, unknown invoice CSV is a 404.
    r = await call('GET', '/api/tariffs');
    assert.equal((r.json.tariffs as Array<{ id: string }>)[0]?.id, TARIFF.id);
    r = await call('GET', '/api/invoices/999.csv');
    assert.equal(r.status, 404, r.text);

    // SMS went to the log file in the data folder (receipt, disconnect warning, reconnect).
    await sys.billing.sms.deliverDue();
    const sms = readFileSync(path.join(dir, 'sms.log'), 'utf8');
    assert.match(sms, /will be disconnected/);
    assert.match(sms, /received/);
  } finally {
    await sys.close();
  }
});

test('prepaid loop: at night (default no-disconnect window) credit runs out but no disconnect is proposed; 09:00 the re-check proposes it', async () => {
  const clock = clockStartingAt(WEDNESDAY_NIGHT);
  const { sys, call, power } = await setUp({}, clock);
  try {
    const r = await call('POST', '/api/payments/cash', { account: 'c2', amountMinor: 100, currency: 'UGX', receipt: 'RCPT-0101' });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    await until('the zero-credit event', () => sys.billing.events.recent.some((e) => e.kind === 'zero' && e.customer === 'c2'));
    await sys.billing.loop.idle();
    const audit = await call('GET', '/api/audit');
    const refused = (audit.json.entries as Array<{ action: string; detail: string; meter: number | null }>).filter(
      (e) => e.action === 'refused' && e.meter === 2,
    );
    assert.ok(
      refused.some((e) => /no disconnects between 18:00 and 08:00/.test(e.detail)),
      JSON.stringify(refused),
    );
    assert.equal((await pendingDisconnects(call)).length, 0);
    assert.equal(sys.sim?.model.isLoadConnected(2), true);
    assert.ok(((await power()) ?? 0) > 2500);

    // The next weekday at 09:00 the customer is still at zero and connected: the re-check proposes the disconnect.
    assert.equal(await sys.billing.loop.recheck(), 0, 'still night: nothing');
    clock.moveTo(THURSDAY_MORNING); // the site's clock; the simulated meters keep their own time
    assert.equal(await sys.billing.loop.recheck(), 1);
    assert.equal((await pendingDisconnects(call)).length, 1);
    assert.equal(sys.sim.model.isLoadConnected(2), true, 'supervised: it waits for an operator');
  } finally {
    await sys.close();
  }
});
