import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RPCClient } from 'ocpp-rpc';
import { hashPassword } from '../src/auth/passwords.js';
import { createCustomer } from '../src/billing/customers.js';
import { Ledger } from '../src/billing/ledger.js';
import { saveTariff } from '../src/billing/tariff-store.js';
import { CentralSystem } from '../src/ocpp/central-system.js';
import { ocppConfigSchema } from '../src/ocpp/ocpp-config.js';
import { SimCharger } from '../src/sim/ocpp-charger.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { startSystem } from '../src/system.js';
import { clockStartingAt, manualClock } from '../src/util/clock.js';
import { httpClient } from './helpers/http.js';
import { tempDb } from './helpers/temp-db.js';

/**
 * The OCPP 1.6J central system (issue 12 item 5) against the simulated charger (ocpp-rpc's RPCClient,
 * strict schemas on both sides, over a real WebSocket on loopback). Time is a manual clock on a fixed
 * day, never today's date.
 */
const T0 = Date.UTC(2026, 4, 12, 8, 0, 0); // 11:00 in Kampala
const PASSWORD = 'charger-secret-0001';

async function setup(t: { after: (fn: () => Promise<void> | void) => void }) {
  const db = tempDb(t);
  const clock = manualClock(T0);
  const ledger = new Ledger(db, 'kasese', 'UGX');
  saveTariff(db, {
    id: 'ev',
    name: 'EV charging',
    currency: 'UGX',
    versions: [
      {
        version: 1,
        effectiveFrom: '2026-01-01',
        energy: { kind: 'flat', priceE4: 8_000_000 },
        fixedMonthlyMinor: 0,
        taxes: [{ name: 'VAT', rateBp: 1800, base: ['energy'] }],
      },
    ],
  });
  createCustomer(db, ledger, { id: 'amina', name: 'Amina', phone: '+256772123456', site: 'kasese', tariffId: 'ev', mode: 'prepaid' });
  const config = ocppConfigSchema.parse({
    enabled: true,
    host: '127.0.0.1',
    port: 0,
    heartbeatS: 60,
    chargers: [{ id: 'cp1', passwordHash: await hashPassword(PASSWORD) }],
    idTags: [{ idTag: 'RFID-AMINA', customerId: 'amina' }],
  });
  const cs = new CentralSystem({ config, db, ledger, timeZone: 'Africa/Kampala', clock });
  const port = await cs.listen();
  t.after(() => cs.close());
  const charger = (password = PASSWORD) => {
    const c = new SimCharger({ url: `ws://127.0.0.1:${port}`, id: 'cp1', password, clock, carMaxW: 7400 });
    t.after(() => c.close());
    return c;
  };
  return { db, clock, ledger, cs, charger, port };
}

test('a simulated charger boots, authorises, charges, follows a limit set through the hook, stops; the session is billed once to the customer', async (t) => {
  const { clock, ledger, cs, charger } = await setup(t);
  const session = (id: number) => cs.session(id) ?? assert.fail(`no session ${id}`);
  const cp = charger();
  const boot = await cp.connect();
  assert.equal(boot['status'], 'Accepted');
  assert.equal(boot['interval'], 60);
  assert.equal(boot['currentTime'], new Date(T0).toISOString(), 'the central system tells time by its clock');
  assert.deepEqual(cs.connected(), ['cp1']);
  assert.equal((await cp.heartbeat())['currentTime'], new Date(T0).toISOString());
  assert.equal(await cp.authorize('RFID-UNKNOWN'), 'Invalid');
  assert.equal(await cp.authorize('RFID-AMINA'), 'Accepted');

  const started = await cp.start('RFID-AMINA');
  assert.equal(started.status, 'Accepted');
  const tx = started.transactionId;
  clock.advance(30 * 60_000);
  await cp.drive(30 * 60_000); // 30 min at the car's 7.4 kW
  assert.equal(session(tx).offeredW, 7400);
  assert.equal(session(tx).lastMeterWh, 1_000_000 + 3700);

  // The edge cycle's hook: solar surplus says 3.2 kW.
  assert.equal(await cs.setChargerLimitW('cp1', 3200), 'Accepted');
  const sent = cp.received.at(-1)?.['csChargingProfiles'] as Record<string, unknown>;
  assert.equal(sent['chargingProfilePurpose'], 'TxProfile');
  assert.equal(sent['transactionId'], tx);
  assert.equal(
    (sent['chargingSchedule'] as Record<string, unknown>)['startSchedule'],
    new Date(T0 + 30 * 60_000).toISOString(),
    'startSchedule always set, from the clock',
  );
  clock.advance(60 * 60_000);
  await cp.drive(60 * 60_000);
  const s = cs.session(tx) ?? assert.fail('no session');
  assert.equal(s.limitW, 3200);
  assert.equal(s.offeredW, 3200, 'the charger reports the limit it applies');
  assert.equal(s.powerW, 3200);
  assert.equal(s.lastMeterWh, 1_000_000 + 3700 + 3200);
  assert.equal(await cs.setChargerLimitW('cp1', null), 'Accepted', 'the limit is lifted with ClearChargingProfile');
  assert.equal(cp.limitW(), 7400);

  await cp.stop('EVDisconnected');
  const done = cs.session(tx) ?? assert.fail('no session');
  assert.equal(done.meterStopWh, 1_006_900);
  assert.equal(done.stopReason, 'EVDisconnected');
  assert.ok(done.billedTxId, 'billed');

  // 6.9 kWh x UGX 800 = 5520, VAT 18 % = 993.6 -> 994 (half-even): 6514.
  const st = ledger.statement('customer:amina', 0, T0 + 24 * 3_600_000);
  const rows = st.rows.filter((r) => r.kind === 'consumption');
  assert.equal(rows.length, 1);
  const row = rows[0] ?? assert.fail('no consumption row');
  assert.equal(row.amountMinor, 6514);
  assert.match(row.reference, /^EV charging cp1\/1 transaction \d+: 6\.900 kWh$/);
  assert.equal(cs.bill(tx), done.billedTxId, 'billing again posts nothing new');
  assert.equal(
    ledger.statement('customer:amina', 0, T0 + 24 * 3_600_000).rows.filter((r) => r.kind === 'consumption').length,
    1,
    'idempotent by transaction id',
  );
});

test('RemoteStart and RemoteStop; a TxDefaultProfile when idle; the maximum profile goes to connector 0 only', async (t) => {
  const { clock, cs, charger } = await setup(t);
  const session = (id: number) => cs.session(id) ?? assert.fail(`no session ${id}`);
  const cp = charger();
  await cp.connect();
  assert.equal(await cs.setChargerLimitW('cp1', 5000), 'Accepted');
  const sent = cp.received.at(-1) ?? assert.fail('no profile sent');
  assert.equal(sent['connectorId'], 0);
  assert.equal((sent['csChargingProfiles'] as Record<string, unknown>)['chargingProfilePurpose'], 'TxDefaultProfile');
  assert.equal(await cs.setChargerMaxW('cp1', 4000), 'Accepted');
  assert.equal(cp.received.at(-1)?.['connectorId'], 0);
  assert.equal(await cs.remoteStart('cp1', 'RFID-AMINA'), 'Accepted');
  for (let i = 0; i < 50 && cp.transactionId === null; i++) await new Promise((r) => setTimeout(r, 20));
  const tx = cp.transactionId ?? assert.fail('no transaction after RemoteStart');
  clock.advance(60 * 60_000);
  await cp.drive(60 * 60_000);
  assert.equal(session(tx).offeredW, 4000, 'the max profile caps the default profile');
  assert.equal(await cs.remoteStop('cp1', tx), 'Accepted');
  for (let i = 0; i < 50 && session(tx).stoppedMs === null; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(session(tx).stopReason, 'Remote');
  assert.equal(session(tx).meterStopWh, 1_004_000);
});

/** ocpp-rpc rejects a refused upgrade with UnexpectedHttpResponse, the HTTP status in `code`. */
const http401 = (e: unknown): boolean => e instanceof Error && (e as Error & { code?: unknown }).code === 401;

test('a charger with a wrong basic-auth password, or none, is refused', async (t) => {
  const { cs, charger, port } = await setup(t);
  const wrong = charger('not-the-password');
  await assert.rejects(() => wrong.connect(), http401);
  const none = new RPCClient({ endpoint: `ws://127.0.0.1:${port}`, identity: 'cp1', protocols: ['ocpp1.6'], reconnect: false } as ConstructorParameters<
    typeof RPCClient
  >[0]);
  t.after(() => none.close({ force: true }));
  await assert.rejects(() => none.connect(), http401);
  const stranger = new RPCClient({
    endpoint: `ws://127.0.0.1:${port}`,
    identity: 'cp9',
    password: PASSWORD,
    protocols: ['ocpp1.6'],
    reconnect: false,
  } as ConstructorParameters<typeof RPCClient>[0]);
  t.after(() => stranger.close({ force: true }));
  await assert.rejects(() => stranger.connect(), http401);
  assert.deepEqual(cs.connected(), []);
});

test('wired in the system: the site file section starts the central system; the session appears on the customer statement of the HTTP API', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-ocpp-'));
  const clock = clockStartingAt(T0);
  const config = {
    site: { id: 'ocpp', name: 'OCPP test', timezone: 'Africa/Kampala' },
    poll: { intervalMs: 10_000 },
    storage: { path: path.join(dir, 'mgos.db'), flushIntervalMs: 0 },
    http: { host: '127.0.0.1', port: 0 },
    sim: { enabled: true, seed: 3, customers: 2, port: 0 },
    ocpp: {
      enabled: true,
      host: '127.0.0.1',
      port: 0,
      chargers: [{ id: 'cp1', passwordHash: await hashPassword(PASSWORD) }],
      idTags: [{ idTag: 'RFID-AMINA', customerId: 'amina' }],
    },
  };
  const sys = await startSystem({ config, adminPassword: 'ocpp-test-password-1', clock, simClock: clock, logger: pino({ level: 'silent' }) });
  t.after(async () => {
    await sys.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const cs = sys.ocpp ?? assert.fail('no central system');
  const currency = sys.billing.ledger.currency;
  saveTariff(sys.db, {
    id: 'ev',
    name: 'EV charging',
    currency,
    versions: [{ version: 1, effectiveFrom: '2026-01-01', energy: { kind: 'flat', priceE4: 8_000_000 }, fixedMonthlyMinor: 0, taxes: [] }],
  });
  createCustomer(sys.db, sys.billing.ledger, { id: 'amina', name: 'Amina', phone: '+256772123456', site: 'ocpp', tariffId: 'ev', mode: 'prepaid' });
  const cp = new SimCharger({ url: `ws://127.0.0.1:${cs.boundPort}`, id: 'cp1', password: PASSWORD, clock, carMaxW: 7400 });
  t.after(() => cp.close());
  await cp.connect();
  const { status } = await cp.start('RFID-AMINA');
  assert.equal(status, 'Accepted');
  assert.equal(await cs.setChargerLimitW('cp1', 2000), 'Accepted');
  await cp.drive(3_600_000);
  await cp.stop();
  const http = httpClient(() => sys.url);
  const token = await http.login('admin', 'ocpp-test-password-1');
  const st = await http.call('GET', `/api/customers/amina/statement?from=0&to=${T0 + 86_400_000}`, { token });
  assert.equal(st.status, 200, st.text);
  const rows = st.json['rows'] as Array<{ kind: string; reference: string; amountMinor: number; description: string }>;
  const ev = rows.filter((r) => r.kind === 'consumption');
  assert.equal(ev.length, 1, JSON.stringify(rows));
  assert.match(ev[0]?.reference ?? '', /^EV charging cp1\/1 transaction \d+: 2\.000 kWh$/);
  assert.ok((ev[0]?.amountMinor ?? 0) > 0);
});
