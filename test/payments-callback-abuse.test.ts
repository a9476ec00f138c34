/**
 * The public payment callback URLs against someone who wants to hurt the site (issue 8 §3): through
 * real HTTP against the running system, from many loopback source addresses.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { MtnSandbox } from '../src/payments/sandbox/mtn.js';
import { startSystem, type RunningSystem } from '../src/system.js';
import { systemClock } from '../src/util/clock.js';
import { httpClient } from './helpers/http.js';
import { rawRequest, streamChunked } from './helpers/raw-http.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describe('payment callbacks are public but cannot be used against the site', () => {
  const creds = { subscriptionKey: 'sub-key', apiUserId: randomUUID(), apiKey: 'api-key-1' };
  const sandbox = new MtnSandbox({ ...creds, providerCallbackHost: '127.0.0.1' });
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-cb-abuse-'));
  const dbFile = path.join(dir, 'mgos.db');
  let sys: RunningSystem;
  let admin = '';
  const { call, login } = httpClient(() => sys.url);
  const inbox = () => sys.billing.processor.store.inbox.counts();
  const fileBytes = () => [dbFile, `${dbFile}-wal`].reduce((n, f) => n + (statSync(f, { throwIfNoEntry: false })?.size ?? 0), 0);

  before(async () => {
    const baseUrl = await sandbox.start();
    const port = await freePort();
    sys = await startSystem({
      config: {
        site: { id: 'cbsite', name: 'Callback site', timezone: 'Africa/Kampala' },
        storage: { path: dbFile },
        http: { port },
        sim: { enabled: true, customers: 2, port: 0 },
        billing: { currency: 'EUR' },
        // Only MTN is configured: Airtel and Pesapal callbacks must be refused.
        payments: { mtn: { baseUrl, ...creds, targetEnvironment: 'sandbox', callbackUrl: `http://127.0.0.1:${port}/api/payments/callbacks/mtn` } },
      },
      adminPassword: 'callback admin password',
      logger: pino({ level: 'silent' }),
    });
    admin = await login('admin', 'callback admin password');
  });

  after(async () => {
    await (sys as RunningSystem | undefined)?.close(); // unset when before() failed
    await sandbox.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 404 with a sentence for a provider that is not configured, and stores nothing', async () => {
    const before = inbox().rows;
    const airtel = await rawRequest({
      url: `${sys.url}/api/payments/callbacks/airtel`,
      from: '127.0.5.1',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ transaction: { id: 'x', status_code: 'TS' } }),
    });
    assert.equal(airtel.status, 404, airtel.text);
    assert.match(airtel.text, /airtel is not configured on this site.*configured: mtn/);
    const pesapal = await rawRequest({
      url: `${sys.url}/api/payments/callbacks/pesapal?OrderTrackingId=a&OrderMerchantReference=b`,
      method: 'GET',
      from: '127.0.5.1',
    });
    assert.equal(pesapal.status, 404, pesapal.text);
    assert.equal(inbox().rows, before);
  });

  it('refuses a 300 MB chunked body with 413 while the server reads only a few KB of it: memory stays bounded, nothing is stored', async () => {
    const before = inbox().rows;
    const baseRss = process.memoryUsage.rss();
    let peakRss = baseRss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 5);
    let r: Awaited<ReturnType<typeof streamChunked>>;
    try {
      r = await streamChunked({ url: `${sys.url}/api/payments/callbacks/mtn/${randomUUID()}`, from: '127.0.6.1', totalBytes: 300 * 1024 * 1024 });
    } finally {
      clearInterval(sampler);
    }
    const growthMb = (peakRss - baseRss) / 1e6;
    console.log(`300 MB chunked body: answered ${r.status} after ${r.sentBytes} bytes were sent; RSS grew ${growthMb.toFixed(1)} MB`);
    assert.ok(growthMb < 50, `RSS grew by ${growthMb.toFixed(1)} MB while refusing the body; at most 50 MB allowed`);
    assert.equal(r.status, 413, r.text);
    assert.match(r.text, /callback body is too large: found more than 8192 bytes.*at most 8192 bytes/);
    assert.ok(r.sentBytes < 300 * 1024 * 1024, `the sender was stopped early (sent ${r.sentBytes} bytes)`);
    // A declared length over the limit is refused before a byte is read.
    const declared = await rawRequest({
      url: `${sys.url}/api/payments/callbacks/mtn/${randomUUID()}`,
      from: '127.0.6.1',
      headers: { 'content-type': 'application/json' },
      body: Buffer.alloc(9000, 0x20),
    });
    assert.equal(declared.status, 413, declared.text);
    assert.match(declared.text, /content-length 9000/);
    assert.equal(inbox().rows, before, 'nothing was stored');
  });

  it('limits callbacks per source address: 429 with Retry-After, while another address is still served', async () => {
    const url = `${sys.url}/api/payments/callbacks/mtn/${randomUUID()}`;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<typeof rawRequest>> | undefined;
    try {
      for (let i = 0; i < 100; i++) {
        const r = await rawRequest({ url, from: '127.0.7.1', agent, headers: { 'content-type': 'application/json' }, body: '{}' });
        statuses.push(r.status);
        if (r.status === 429) refused ??= r;
      }
    } finally {
      agent.destroy();
    }
    assert.equal(statuses[0], 200);
    assert.ok(refused, `no 429 among ${statuses.length} callbacks from one address: ${[...new Set(statuses)].join(', ')}`);
    assert.ok(Number(refused.headers['retry-after']) >= 1, `Retry-After: ${String(refused.headers['retry-after'])}`);
    assert.match(refused.text, /too many callbacks from 127\.0\.7\.1: .*retry after \d+ s/);
    const other = await rawRequest({ url, from: '127.0.7.2', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(other.status, 200, other.text);
  });

  it('a flood of 10,000 callbacks for unknown references from 250 addresses leaves the inbox and the database bounded; payments stay fast and a real callback credits once', async () => {
    const tariffFrom = isoDay(systemClock() - 40 * 86_400_000);
    let r = await call('POST', '/api/tariffs', {
      token: admin,
      body: {
        id: 'eur-flat',
        name: 'EUR flat',
        currency: 'EUR',
        versions: [{ version: 1, effectiveFrom: tariffFrom, energy: { kind: 'flat', priceE4: 25 * 10_000 } }],
      },
    });
    assert.ok(r.status === 200 || r.status === 201, r.text);
    r = await call('POST', '/api/customers', {
      token: admin,
      body: { id: 'c2', name: 'Amina', phone: '+256772123456', tariffId: 'eur-flat', mode: 'prepaid', meter: 2 },
    });
    assert.ok(r.status === 200 || r.status === 201, r.text);

    const bytesBefore = fileBytes();
    // What an MTN callback looks like (MTN callback page), padded to 2 KB, each naming a reference that is no payment of ours.
    const body = JSON.stringify({
      financialTransactionId: '1232581108',
      externalId: 'x',
      amount: '5',
      currency: 'EUR',
      payer: { partyIdType: 'MSISDN', partyId: '46733123999' },
      payerMessage: 'x'.repeat(1800),
      payeeNote: '',
      status: 'SUCCESSFUL',
    });
    const sources = Array.from({ length: 250 }, (_, i) => `127.0.${10 + Math.floor(i / 200)}.${1 + (i % 200)}`);
    const agents = new Map(sources.map((s) => [s, new http.Agent({ keepAlive: true, maxSockets: 1 })]));
    const counts = new Map<number, number>();
    let next = 0;
    const total = 10_000;
    const worker = async () => {
      for (let i = next++; i < total; i = next++) {
        const from = sources[i % sources.length] ?? '127.0.10.1';
        const res = await rawRequest({
          url: `${sys.url}/api/payments/callbacks/mtn/${randomUUID()}`,
          from,
          agent: agents.get(from),
          headers: { 'content-type': 'application/json' },
          body,
        });
        counts.set(res.status, (counts.get(res.status) ?? 0) + 1);
      }
    };
    const t0 = performance.now();
    try {
      await Promise.all(Array.from({ length: 16 }, worker));
    } finally {
      for (const a of agents.values()) a.destroy();
    }
    const floodS = (performance.now() - t0) / 1000;
    assert.equal(counts.get(200), total, `every flood callback was answered 200 (40 per address is within the rate limit): ${JSON.stringify([...counts])}`);

    const c = inbox();
    assert.ok(c.unlinked <= 1_000, `callbacks naming no payment kept: ${c.unlinked}; at most 1,000 allowed`);
    assert.ok(c.rows <= 1_100, `inbox rows: ${c.rows}`);
    const grewMb = (fileBytes() - bytesBefore) / 1e6;
    assert.ok(grewMb < 12, `database and WAL grew by ${grewMb.toFixed(1)} MB for ${total} callbacks of 2 KB; at most 12 MB allowed`);

    // Starting a payment touches only its own callbacks, not the flood.
    const t1 = performance.now();
    r = await call('POST', '/api/payments', {
      token: admin,
      body: { account: 'c2', provider: 'mtn', msisdn: '46733123999', amountMinor: 5000, currency: 'EUR' },
    });
    const startMs = performance.now() - t1;
    assert.ok(r.status === 200 || r.status === 201, r.text);
    assert.ok(startMs < 1000, `POST /api/payments took ${startMs.toFixed(0)} ms after the flood; at most 1000 ms allowed`);
    const paymentId = (r.json.payment as { id: string }).id;

    await sandbox.settle(); // the sandbox approves and calls our callback URL from 127.0.0.1
    let payments: { id: string; state: string }[] = [];
    for (let i = 0; i < 50; i++) {
      payments = ((await call('GET', '/api/payments?account=c2', { token: admin })).json.payments as typeof payments | undefined) ?? [];
      if (payments[0]?.state === 'successful') break;
      await sleep(100);
    }
    assert.equal(payments[0]?.state, 'successful', JSON.stringify(payments));
    // The same callback again (a provider retry or a replay) credits nothing more.
    const replay = sandbox.deliveries[0];
    assert.equal(replay?.status, 200);
    const again = await rawRequest({
      url: `${sys.url}/api/payments/callbacks/mtn/${paymentId}`,
      from: '127.0.8.1',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'SUCCESSFUL', amount: '50', currency: 'EUR', financialTransactionId: 'forged-2' }),
    });
    assert.equal(again.status, 200, again.text);
    const customer = await call('GET', '/api/customers/c2', { token: admin });
    assert.equal(customer.json.creditMinor, 5000, 'credited once');
    console.log(
      `flood: ${total} callbacks in ${floodS.toFixed(1)} s; inbox ${JSON.stringify(c)}; files +${grewMb.toFixed(2)} MB; POST /api/payments ${startMs.toFixed(1)} ms`,
    );
  });
});
