import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { get as httpGet, type IncomingHttpHeaders } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { startSystem, type RunningSystem } from '../src/system.js';
import { httpClient } from './helpers/http.js';

let sys: RunningSystem;
let adminToken: string;

const { call, login } = httpClient(() => sys.url);

before(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-api-'));
  sys = await startSystem({
    config: {
      site: { id: 'api', name: 'API site' },
      poll: { intervalMs: 1000 },
      storage: { path: path.join(dir, 'mgos.db'), flushIntervalMs: 1000 },
      http: { port: 0 },
      sim: { enabled: true, customers: 3, port: 0 },
    },
    logger: pino({ level: 'silent' }),
  });
  assert.ok(sys.adminPassword && sys.adminPassword.length >= 16, 'the first start generates an admin password');
  adminToken = await login('admin', sys.adminPassword);
});

after(async () => {
  await sys.close();
});

test('no default password: the generated one is shown once; a restart does not make another', async () => {
  const dbPath = sys.config.storage.path;
  const second = await startSystem({
    config: { site: { id: 'api', name: 'again' }, storage: { path: dbPath }, http: { port: 0 }, buses: [], meters: [] },
    logger: pino({ level: 'silent' }),
  });
  try {
    assert.equal(second.adminPassword, null);
  } finally {
    await second.close();
  }
  assert.equal((await call('POST', '/api/login', { body: { username: 'admin', password: 'admin' } })).status, 401);
});

test('everything but login needs a session; roles are enforced', async () => {
  assert.equal((await call('GET', '/api/meters')).status, 401);
  assert.equal((await call('GET', '/api/stream')).status, 401);
  const created = await call('POST', '/api/users', { token: adminToken, body: { username: 'viewer1', password: 'a long enough secret', role: 'viewer' } });
  assert.equal(created.status, 200, created.text);
  const viewer = await login('viewer1', 'a long enough secret');
  assert.equal((await call('GET', '/api/meters', { token: viewer })).status, 200);
  const denied = await call('POST', '/api/users', { token: viewer, body: { username: 'x', password: 'another long secret', role: 'admin' } });
  assert.equal(denied.status, 403);
  assert.match(denied.json.error as string, /admin role/);
});

test('bad input gets a 400 that names the field and changes nothing', async () => {
  const r = await call('POST', '/api/users', { token: adminToken, body: { username: 'op', password: 'long enough password', role: 'superuser' } });
  assert.equal(r.status, 400);
  assert.match(r.json.error as string, /^role: must be one of viewer, operator, installer, admin; found "superuser"$/);
  const users = await call('GET', '/api/users', { token: adminToken });
  assert.ok(!(users.json.users as { username: string }[]).some((u) => u.username === 'op'));
  const h = await call('GET', '/api/meters/meter2/history?channel=Nonsense&from=0&to=1000', { token: adminToken });
  assert.equal(h.status, 400);
  assert.match(h.json.error as string, /^channel: /);
  assert.equal((await call('GET', '/api/meters/meter99/csv?date=2026-01-01', { token: adminToken })).status, 404);
});

test('meters, overview, history, intervals and CSV over HTTP', async () => {
  // Wait for readings to be flushed to the database.
  const deadline = Date.now() + 15_000;
  let points: unknown[] = [];
  while (Date.now() < deadline && points.length < 2) {
    await new Promise((r) => setTimeout(r, 500));
    const h = await call('GET', `/api/meters/meter2/history?channel=ActivePower&from=${Date.now() - 3_600_000}&to=${Date.now() + 1000}`, { token: adminToken });
    points = h.json.points as unknown[];
  }
  assert.ok(points.length >= 2, 'history returns stored readings');
  const meters = await call('GET', '/api/meters', { token: adminToken });
  const list = meters.json.meters as { key: string; quality: string; values: Record<string, { value: number; quality: string }> }[];
  assert.equal(list.length, 4);
  assert.equal(list[0]?.key, 'meter100', 'the main meter comes first');
  assert.ok(list.every((m) => m.quality === 'GOOD'));
  const overview = await call('GET', '/api/overview', { token: adminToken });
  assert.equal((overview.json.meters as { online: number }).online, 4);
  const day = new Intl.DateTimeFormat('en-CA', { timeZone: 'UTC' }).format(new Date());
  const csv = await call('GET', `/api/meters/meter2/csv?date=${day}`, { token: adminToken });
  assert.equal(csv.status, 200);
  assert.match(csv.headers.get('content-disposition') ?? '', /meter_002_\d{4}-\d{2}-\d{2}\.csv/);
  const [header, first] = csv.text.split('\n');
  assert.match(header ?? '', /^timestamp,meter_id,V_L1_V,/);
  assert.match(first ?? '', /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},2,2\d\d\.\d/);
  const buses = await call('GET', '/api/buses', { token: adminToken });
  const bus = (buses.json.buses as { requests: number; bytesRx: number; utilisation: number }[])[0];
  assert.ok(bus && bus.requests > 0 && bus.bytesRx > 0 && bus.utilisation > 0);
});

test('the OpenAPI document describes every route with its parameters', async () => {
  const r = await call('GET', '/api/openapi.json');
  assert.equal(r.status, 200);
  const paths = r.json.paths as Record<string, Record<string, { parameters: { name: string }[] }>>;
  for (const p of ['/api/login', '/api/meters', '/api/meters/{key}/history', '/api/meters/{key}/csv', '/api/overview', '/api/buses'])
    assert.ok(paths[p], `${p} documented`);
  assert.deepEqual(paths['/api/meters/{key}/history']?.get?.parameters.map((x) => x.name).sort(), ['channel', 'from', 'key', 'to']);
});

test('the live stream sends values after each poll cycle', async () => {
  const controller = new AbortController();
  const res = await fetch(`${sys.url}/api/stream`, { headers: { authorization: `Bearer ${adminToken}` }, signal: controller.signal });
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const reader = (res.body as ReadableStream<Uint8Array> | null)?.getReader();
  assert.ok(reader);
  let text = '';
  const deadline = Date.now() + 5000;
  while (!text.includes('event: values') && Date.now() < deadline) {
    const { value } = await reader.read();
    text += new TextDecoder().decode(value);
  }
  controller.abort();
  assert.match(text, /event: values\ndata: \{"ts":\d+,"meters":\[\{"key":"meter/);
});

test('the simulator can be told to silence a meter over the API (installer role); the meter turns ERROR', async () => {
  const operator = await call('POST', '/api/users', { token: adminToken, body: { username: 'op1', password: 'operator password', role: 'operator' } });
  assert.equal(operator.status, 200);
  const opToken = await login('op1', 'operator password');
  assert.equal((await call('POST', '/api/sim/meters/3/fault', { token: opToken, body: { fault: 'silent' } })).status, 403);
  assert.equal((await call('POST', '/api/sim/meters/3/fault', { token: adminToken, body: { fault: 'silent' } })).status, 200);
  try {
    const deadline = Date.now() + 8000;
    let quality = '';
    while (Date.now() < deadline && quality !== 'ERROR') {
      await new Promise((r) => setTimeout(r, 300));
      quality = (await call('GET', '/api/meters/meter3', { token: adminToken })).json.quality as string;
    }
    assert.equal(quality, 'ERROR');
  } finally {
    await call('POST', '/api/sim/meters/3/fault', { token: adminToken, body: { fault: 'none' } });
  }
});

test('history and CSV come compressed by the query worker as the client accepts, and plain to a client that accepts none', async () => {
  const day = new Intl.DateTimeFormat('en-CA', { timeZone: 'UTC' }).format(new Date());
  const get = (acceptEncoding?: string): Promise<{ headers: IncomingHttpHeaders; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const headers = { authorization: `Bearer ${adminToken}`, ...(acceptEncoding ? { 'accept-encoding': acceptEncoding } : {}) };
      httpGet(`${sys.url}/api/meters/meter2/csv?date=${day}`, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      }).on('error', reject);
    });
  // Enough polls recorded for the day's CSV to pass the 1 KB compression threshold.
  let plain = await get();
  for (const deadline = Date.now() + 15_000; plain.body.length <= 1024 && Date.now() < deadline; plain = await get())
    await new Promise((r) => setTimeout(r, 500));
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.match(plain.body.toString('utf8'), /^timestamp,meter_id,/);
  assert.ok(plain.body.length > 1024, 'a day of readings is worth compressing');
  const br = await get('gzip, deflate, br');
  assert.equal(br.headers['content-encoding'], 'br');
  assert.equal(br.headers.vary, 'accept-encoding');
  assert.equal(brotliDecompressSync(br.body).toString('utf8').split('\n')[0], plain.body.toString('utf8').split('\n')[0]);
  const gz = await get('gzip');
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.match(gunzipSync(gz.body).toString('utf8'), /^timestamp,meter_id,/);
});
