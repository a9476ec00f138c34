import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { acceptCsvBodies, registerInventoryRoutes } from '../src/commissioning/inventory/routes.js';
import { buildOpenApi } from '../src/api/openapi.js';
import { HttpError, RouteRegistry } from '../src/api/route.js';
import { UserStore } from '../src/auth/user-store.js';
import type { UsedAddress } from '../src/commissioning/address-plan.js';
import { commissioningConfigSchema } from '../src/commissioning/commissioning-config.js';
import { INVENTORY_CSV_HEADER } from '../src/commissioning/inventory/csv.js';
import { InventoryStore } from '../src/commissioning/inventory/store.js';
import { openDatabase, type StoreDb } from '../src/store/database.js';

const DAY = 86_400_000;
const clock = { now: Date.parse('2026-04-01T09:00:00Z') };
let dir: string;
let db: StoreDb;
let app: FastifyInstance;
let url: string;
let routes: RouteRegistry;
const configured: UsedAddress[] = [{ site: 'Office Building A', bus: 'main', address: 2, by: 'configured meter reception (id 2)' }];
const token: Record<'viewer' | 'operator' | 'installer' | 'admin', string> = { viewer: '', operator: '', installer: '', admin: '' };

/** The lead's server in miniature: same registry, same error mapping, real sessions, real HTTP. */
before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mgos-inventory-api-'));
  db = openDatabase(path.join(dir, 'mgos.db'));
  const users = new UserStore(db);
  for (const role of ['viewer', 'operator', 'installer', 'admin'] as const) {
    await users.create(`${role}1`, 'a long enough secret', role);
    token[role] = (await users.login(`${role}1`, 'a long enough secret'))?.token ?? '';
  }
  const inventory = new InventoryStore(db, {
    commissioning: commissioningConfigSchema.parse({}),
    localSite: 'Office Building A',
    buses: ['main', 'east'],
    configured: () => configured,
    now: () => clock.now,
  });
  app = Fastify({ logger: false });
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    if (err instanceof HttpError) return reply.code(err.status).send({ error: err.message, ...(err.issues ? { issues: err.issues } : {}) });
    return reply.code(err.statusCode ?? 500).send({ error: err.message });
  });
  acceptCsvBodies(app);
  routes = new RouteRegistry(app, users);
  registerInventoryRoutes(routes, { inventory, addressPlan: inventory.addressPlan, timeZone: 'Africa/Kampala' });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});

after(async () => {
  await app.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Reply {
  status: number;
  json: Record<string, unknown>;
  text: string;
  headers: Headers;
}

async function call(method: string, to: string, opts: { as?: keyof typeof token; body?: unknown; type?: string } = {}): Promise<Reply> {
  const raw = typeof opts.body === 'string';
  const res = await fetch(`${url}${to}`, {
    method,
    headers: {
      ...(opts.as ? { authorization: `Bearer ${token[opts.as]}` } : {}),
      ...(opts.body !== undefined ? { 'content-type': opts.type ?? (raw ? 'text/csv' : 'application/json') } : {}),
    },
    body: opts.body === undefined ? undefined : raw ? (opts.body as string) : JSON.stringify(opts.body),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // CSV bodies
  }
  return { status: res.status, json, text, headers: res.headers };
}

const error = (r: Reply): string => String(r.json.error);

test('roles: viewers read, installers change, nobody without a session', async () => {
  assert.equal((await call('GET', '/api/inventory')).status, 401);
  assert.equal((await call('GET', '/api/inventory', { as: 'viewer' })).status, 200);
  assert.equal((await call('GET', '/api/inventory.csv', { as: 'viewer' })).status, 200);
  const denied = await call('POST', '/api/inventory', { as: 'operator', body: { serial: '200322016600', model: 'DDSU666' } });
  assert.equal(denied.status, 403);
  assert.match(error(denied), /installer role/);
  assert.equal((await call('POST', '/api/inventory/import', { as: 'viewer', body: `${INVENTORY_CSV_HEADER}\r\n` })).status, 403);
});

test('create, move along the workflow and read the history; the logged-in user is recorded', async () => {
  const created = await call('POST', '/api/inventory', { as: 'installer', body: { serial: '200322016690', model: 'DDSU666', building: 'Floor 1 Reception' } });
  assert.equal(created.status, 200, created.text);
  assert.equal(created.json.status, 'Unassigned');
  const suggested = await call('GET', '/api/address-plan/suggest?bus=main&phases=1', { as: 'viewer' });
  assert.deepEqual(suggested.json, { address: 3 }, 'address 2 is a configured meter');
  const assigned = await call('POST', '/api/inventory/200322016690/transition', { as: 'installer', body: { to: 'Assigned', reason: 'site plan', address: 3 } });
  assert.equal(assigned.status, 200, assigned.text);
  assert.equal(assigned.json.address, 3);
  const decommissioned = await call('POST', '/api/inventory', { as: 'admin', body: { serial: '200322016691', model: 'DDSU666', address: 4 } });
  assert.equal(decommissioned.json.status, 'Assigned');
  assert.equal((await call('POST', '/api/inventory/200322016691/transition', { as: 'admin', body: { to: 'Decommissioned', reason: 'dropped' } })).status, 200);

  const one = await call('GET', '/api/inventory/200322016690', { as: 'viewer' });
  assert.equal(one.status, 200);
  const history = one.json.history as { action: string; by: string; to: string; reason: string }[];
  assert.deepEqual(
    history.map((h) => [h.action, h.by, h.to, h.reason]),
    [
      ['created', 'installer1', 'Unassigned', 'received'],
      ['transition', 'installer1', 'Assigned', 'site plan'],
    ],
  );
  assert.equal((one.json.meter as { overdue: boolean }).overdue, false);
});

test('refusals are 400/404/409 and name the field and the fix', async () => {
  const badSerial = await call('GET', '/api/inventory/12345', { as: 'viewer' });
  assert.equal(badSerial.status, 400);
  assert.match(error(badSerial), /^serial: a meter serial is exactly 12 digits/);
  const badCreate = await call('POST', '/api/inventory', { as: 'installer', body: { serial: '2003220166', model: 'DDSU666' } });
  assert.equal(badCreate.status, 400);
  assert.match(error(badCreate), /serial "2003220166" has 10 digits; a meter serial is exactly 12 digits/);
  assert.equal((await call('GET', '/api/inventory/999999999999', { as: 'viewer' })).status, 404);
  const badTo = await call('POST', '/api/inventory/200322016690/transition', { as: 'installer', body: { to: 'Delivered', reason: 'x' } });
  assert.equal(badTo.status, 400);
  assert.match(error(badTo), /^to: must be one of Unassigned, .*Decommissioned; found "Delivered"$/);
  assert.deepEqual(
    (badTo.json.issues as { field: string }[]).map((i) => i.field),
    ['to'],
  );
  const skip = await call('POST', '/api/inventory/200322016690/transition', { as: 'installer', body: { to: 'Installed', reason: 'x' } });
  assert.equal(skip.status, 409);
  assert.equal(error(skip), 'meter 200322016690 is Assigned and cannot go to Installed; allowed from Assigned: Converted, Decommissioned');
  await call('POST', '/api/inventory', { as: 'installer', body: { serial: '200322016692', model: 'DTSU666' } });
  const range = await call('POST', '/api/inventory/200322016692/transition', { as: 'installer', body: { to: 'Assigned', reason: 'plan', address: 20 } });
  assert.equal(range.status, 400);
  assert.match(error(range), /^address: address 20 is outside the three-phase range; a three-phase meter uses 100-247$/);
  const taken = await call('POST', '/api/inventory', { as: 'installer', body: { serial: '200322016693', model: 'DDSU666', address: 3 } });
  assert.equal(taken.status, 409);
  assert.match(error(taken), /already used on bus main .* by inventory meter 200322016690 \(Assigned\); the next free one is 4/);
  const again = await call('POST', '/api/inventory', { as: 'installer', body: { serial: '200322016690', model: 'DDSU666' } });
  assert.equal(again.status, 409);
});

test('PATCH edits notes, building, site', async () => {
  const r = await call('PATCH', '/api/inventory/200322016690', { as: 'installer', body: { notes: 'Required reverse byte toggle' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.notes, 'Required reverse byte toggle');
  const empty = await call('PATCH', '/api/inventory/200322016690', { as: 'installer', body: {} });
  assert.equal(empty.status, 400);
  assert.match(error(empty), /give at least one of notes, building, site/);
  const unknownField = await call('PATCH', '/api/inventory/200322016690', { as: 'installer', body: { status: 'Commissioned' } });
  assert.equal(unknownField.status, 400);
  assert.match(error(unknownField), /unknown field "status"; allowed: .*notes/);
});

test('list with filters and overdue flags', async () => {
  clock.now += 8 * DAY;
  const all = await call('GET', '/api/inventory', { as: 'viewer' });
  const meters = all.json.meters as { serial: string; overdue: boolean; overdueReason: string | null }[];
  assert.ok(meters.length >= 3);
  const late = await call('GET', '/api/inventory?overdue=true', { as: 'viewer' });
  const lateMeters = late.json.meters as { serial: string; overdueReason: string }[];
  assert.deepEqual(
    lateMeters.map((m) => m.serial),
    ['200322016690'],
  );
  assert.match(lateMeters[0]?.overdueReason ?? '', /conversion is due within 7 days/);
  const byStatus = await call('GET', '/api/inventory?status=Decommissioned', { as: 'viewer' });
  assert.deepEqual(
    (byStatus.json.meters as { serial: string }[]).map((m) => m.serial),
    ['200322016691'],
  );
  const search = await call('GET', '/api/inventory?q=reverse%20byte', { as: 'viewer' });
  assert.deepEqual(
    (search.json.meters as { serial: string }[]).map((m) => m.serial),
    ['200322016690'],
  );
  const bad = await call('GET', '/api/inventory?overdue=yes', { as: 'viewer' });
  assert.equal(bad.status, 400);
  assert.equal(error(bad), 'overdue: must be one of true, false; found "yes"');
});

test('CSV download, and import as text/csv, text/plain or JSON; a bad file is 400 with every row and changes nothing', async () => {
  const csv = await call('GET', '/api/inventory.csv', { as: 'viewer' });
  assert.equal(csv.status, 200);
  assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
  assert.match(csv.headers.get('content-disposition') ?? '', /^attachment; filename="meter_inventory_2026-04-09\.csv"$/);
  assert.ok(csv.text.startsWith(`${INVENTORY_CSV_HEADER}\r\n`));
  assert.match(csv.text, /\r\n200322016690,DDSU666,Office Building A,Floor 1 Reception,3,Assigned,2026-04-01,,,,,,,Required reverse byte toggle\r\n/);

  const imported = await call('POST', '/api/inventory/import', { as: 'installer', body: csv.text });
  assert.equal(imported.status, 200, imported.text);
  assert.deepEqual(imported.json, { created: 0, updated: 3 });
  const plain = await call('POST', '/api/inventory/import', { as: 'installer', body: csv.text, type: 'text/plain' });
  assert.deepEqual(plain.json, { created: 0, updated: 3 });
  const newRow = '200322016699,DDSU666,Office Building A,Shop 9,9,Assigned,2026-04-09,,,,,,,';
  const asJson = await call('POST', '/api/inventory/import', { as: 'installer', body: { csv: `${INVENTORY_CSV_HEADER}\n${newRow}\n` } });
  assert.deepEqual(asJson.json, { created: 1, updated: 0 });
  const hist = await call('GET', '/api/inventory/200322016699', { as: 'viewer' });
  assert.deepEqual(
    (hist.json.history as { action: string; by: string }[]).map((h) => [h.action, h.by]),
    [['imported', 'installer1']],
  );

  const before = (await call('GET', '/api/inventory.csv', { as: 'viewer' })).text;
  const bad = `${INVENTORY_CSV_HEADER}\r\n12345,DDSU666,,,5,Assigned,,,,,,,,\r\n200322016698,DDSU666,,,9,Assigned,,,,,,,,\r\n200322016697,XYZ,,,,Unassigned,,,,,,,,\r\n`;
  const refused = await call('POST', '/api/inventory/import', { as: 'installer', body: bad });
  assert.equal(refused.status, 400);
  const errors = refused.json.errors as { row: number; column: string; message: string }[];
  assert.deepEqual(
    errors.map((e) => [e.row, e.column]),
    [
      [2, 'Meter Serial Number'],
      [3, 'Assigned Modbus Address'],
      [4, 'Meter Type'],
    ],
  );
  assert.match(
    error(refused),
    /^nothing was imported; 3 problems: row 2, Meter Serial Number: .*; row 3, Assigned Modbus Address: address 9 is already used .* by inventory meter 200322016699/,
  );
  assert.equal((await call('GET', '/api/inventory.csv', { as: 'viewer' })).text, before);
});

test('address plan: suggest and check per bus and phase count', async () => {
  assert.deepEqual((await call('GET', '/api/address-plan/suggest?phases=3', { as: 'viewer' })).json, { address: 100 });
  assert.deepEqual((await call('GET', '/api/address-plan/suggest?bus=east&phases=1', { as: 'viewer' })).json, { address: 2 });
  const badPhases = await call('GET', '/api/address-plan/suggest?bus=main&phases=2', { as: 'viewer' });
  assert.equal(badPhases.status, 400);
  assert.match(error(badPhases), /^phases: must be one of 1, 3; found "?2"?$/);
  const check = await call('GET', '/api/address-plan/check?bus=main&phases=1&address=1', { as: 'viewer' });
  assert.equal(check.json.ok, false);
  assert.match(String(check.json.reason), /factory default/);
  assert.deepEqual((await call('GET', '/api/address-plan/check?bus=main&phases=1&address=40', { as: 'viewer' })).json, { ok: true });
  for (let a = 100; a <= 247; a++) configured.push({ site: 'Office Building A', bus: 'east', address: a, by: `configured meter m${a}` });
  assert.deepEqual((await call('GET', '/api/address-plan/suggest?bus=east&phases=3', { as: 'viewer' })).json, {
    address: null,
    reason: 'no three-phase address is free on bus east; widen commissioning.addressPlan or use another bus',
  });
});

test('the routes are in the OpenAPI document', () => {
  const doc = buildOpenApi(routes.documented, 'test') as { paths: Record<string, Record<string, unknown>> };
  for (const p of [
    '/api/inventory',
    '/api/inventory.csv',
    '/api/inventory/{serial}',
    '/api/inventory/{serial}/transition',
    '/api/inventory/import',
    '/api/address-plan/suggest',
    '/api/address-plan/check',
  ]) {
    assert.ok(doc.paths[p], p);
  }
  assert.ok(doc.paths['/api/inventory/{serial}']?.patch);
});
