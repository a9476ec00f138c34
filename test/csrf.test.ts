import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { z } from '#zod';
import { INVENTORY_CSV_HEADER } from '../src/commissioning/inventory/csv.js';
import { startSystem, type RunningSystem } from '../src/system.js';
import { postJson, startApiServer } from './helpers/api-server.js';

let sys: RunningSystem;
let token = '';
const PASSWORD = 'the admin password';

before(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-csrf-'));
  sys = await startSystem({
    config: { site: { id: 'csrf', name: 'CSRF site' }, storage: { path: path.join(dir, 'mgos.db') }, http: { port: 0 }, buses: [], meters: [] },
    adminPassword: PASSWORD,
    logger: pino({ level: 'silent' }),
  });
  token = (await postJson(sys.url, '/api/login', { username: 'admin', password: PASSWORD })).json.token as string;
});

after(async () => {
  await sys.close();
});

const otherPort = () => String(Number(new URL(sys.url).port) + 1);
const cookie = () => `mgos_session=${encodeURIComponent(token)}`;

async function send(method: string, url: string, body: string | undefined, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const res = await fetch(`${sys.url}${url}`, { method, headers, body });
  return { status: res.status, text: await res.text() };
}

async function serials(): Promise<string[]> {
  const res = await fetch(`${sys.url}/api/inventory`, { headers: { authorization: `Bearer ${token}` } });
  const json = (await res.json()) as { meters?: { serial: string }[]; items?: { serial: string }[] };
  return (json.meters ?? json.items ?? []).map((m) => m.serial);
}

test('a form posted from another port of the same host is refused with 403 and creates nothing', async () => {
  const csv = `${INVENTORY_CSV_HEADER}\r\n200322016611,DDSU666,,,,Unassigned,,,,,,,,\r\n`;
  const r = await send('POST', '/api/inventory/import', csv, { cookie: cookie(), origin: `http://127.0.0.1:${otherPort()}`, 'content-type': 'text/plain' });
  assert.equal(r.status, 403, r.text);
  assert.match((JSON.parse(r.text) as { error: string }).error, /may not change anything here/);
  // Sec-Fetch-Site says the same without an Origin; JSON does not make a foreign page welcome.
  const viaFetchMetadata = await send('POST', '/api/inventory', JSON.stringify({ serial: '200322016612', model: 'DDSU666' }), {
    cookie: cookie(),
    'sec-fetch-site': 'same-site',
    'content-type': 'application/json',
  });
  assert.equal(viaFetchMetadata.status, 403);
  const noOrigin = await send('POST', '/api/inventory', JSON.stringify({ serial: '200322016613', model: 'DDSU666' }), {
    cookie: cookie(),
    'content-type': 'application/json',
  });
  assert.equal(noOrigin.status, 403, 'a cookie request that does not say where it comes from is refused');
  const logoutFromElsewhere = await send('POST', '/api/logout', undefined, { cookie: cookie(), origin: 'http://evil.example' });
  assert.equal(logoutFromElsewhere.status, 403);
  assert.deepEqual(await serials(), []);
});

test("the same site's pages work: JSON with its own Origin or Sec-Fetch-Site; other content types are 415", async () => {
  const own = await send('POST', '/api/inventory', JSON.stringify({ serial: '200322016621', model: 'DDSU666' }), {
    cookie: cookie(),
    origin: sys.url,
    'content-type': 'application/json',
  });
  assert.equal(own.status, 200, own.text);
  const fetchMetadata = await send('POST', '/api/inventory', JSON.stringify({ serial: '200322016622', model: 'DDSU666' }), {
    cookie: cookie(),
    'sec-fetch-site': 'same-origin',
    'content-type': 'application/json; charset=utf-8',
  });
  assert.equal(fetchMetadata.status, 200, fetchMetadata.text);
  const csv = `${INVENTORY_CSV_HEADER}\r\n200322016623,DDSU666,,,,Unassigned,,,,,,,,\r\n`;
  const asCsv = await send('POST', '/api/inventory/import', csv, { cookie: cookie(), origin: sys.url, 'content-type': 'text/csv' });
  assert.equal(asCsv.status, 200, `the import route declares text/csv: ${asCsv.text}`);
  const asText = await send('POST', '/api/inventory/import', csv.replace('623', '624'), { cookie: cookie(), origin: sys.url, 'content-type': 'text/plain' });
  assert.equal(asText.status, 415, asText.text);
  const form = await send('POST', '/api/inventory', 'serial=200322016625&model=DDSU666', {
    cookie: cookie(),
    origin: sys.url,
    'content-type': 'application/x-www-form-urlencoded',
  });
  assert.equal(form.status, 415);
  assert.deepEqual((await serials()).sort(), ['200322016621', '200322016622', '200322016623']);
});

test('bearer tokens are not exposed to forgery and need no Origin', async () => {
  const r = await postJson(sys.url, '/api/inventory', { serial: '200322016631', model: 'DDSU666' }, { token, headers: { origin: 'http://elsewhere.example' } });
  assert.equal(r.status, 200);
  const plain = await send('POST', '/api/inventory/import', `${INVENTORY_CSV_HEADER}\r\n200322016632,DDSU666,,,,Unassigned,,,,,,,,\r\n`, {
    authorization: `Bearer ${token}`,
    'content-type': 'text/plain',
  });
  assert.equal(plain.status, 200, 'scripts keep every content type the route parses');
});

test('logging in from a foreign page is refused (login forgery); from a script it works', async () => {
  const foreign = await postJson(sys.url, '/api/login', { username: 'admin', password: PASSWORD }, { headers: { origin: `http://127.0.0.1:${otherPort()}` } });
  assert.equal(foreign.status, 403);
  assert.equal((await postJson(sys.url, '/api/login', { username: 'admin', password: PASSWORD })).status, 200);
});

test('a route marked public (a payment callback) takes a foreign POST of any content type', async () => {
  let seen = 0;
  const s = await startApiServer({
    extraRoutes: [
      (routes) =>
        routes.add({
          method: 'POST',
          url: '/api/test/callback',
          summary: 'a provider calls this',
          role: null,
          public: true,
          body: z.unknown(),
          handler: () => ({ seen: ++seen }),
        }),
    ],
  });
  try {
    const res = await fetch(`${s.base}/api/test/callback`, {
      method: 'POST',
      headers: { cookie: 'mgos_session=x', origin: 'https://provider.example', 'content-type': 'text/plain' },
      body: 'a=1',
    });
    assert.equal(res.status, 200, await res.text());
    assert.equal(seen, 1);
  } finally {
    await s.close();
  }
});
