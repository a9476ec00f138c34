import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerConverterRoutes } from '../src/commissioning/converter/routes.js';
import { buildOpenApi } from '../src/api/openapi.js';
import { HttpError, RouteRegistry } from '../src/api/route.js';
import { UserStore } from '../src/auth/user-store.js';
import { serveBench } from '../src/sim/bench-server.js';
import { openDatabase, type StoreDb } from '../src/store/database.js';

let dir: string;
let db: StoreDb;
let app: FastifyInstance;
let url: string;
let routes: RouteRegistry;
const token = { viewer: '', installer: '' };
/** Each test's bench is added as a configured gateway; nothing else may be opened. */
const gateways: string[] = [];

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mgos-converter-api-'));
  db = openDatabase(path.join(dir, 'mgos.db'));
  const users = new UserStore(db);
  for (const role of ['viewer', 'installer'] as const) {
    await users.create(`${role}1`, 'a long enough secret', role);
    token[role] = (await users.login(`${role}1`, 'a long enough secret'))?.token ?? '';
  }
  app = Fastify({ logger: false });
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    if (err instanceof HttpError) return reply.code(err.status).send({ error: err.message });
    return reply.code(err.statusCode ?? 500).send({ error: err.message });
  });
  routes = new RouteRegistry(app, users);
  registerConverterRoutes(routes, { operatorTimeoutMs: 5000, linePolicy: { serialPrefixes: ['/dev/ttyUSB'], gateways } });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});

after(async () => {
  await app.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

async function call(
  method: string,
  route: string,
  body?: unknown,
  who: keyof typeof token = 'installer',
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${url}${route}`, {
    method,
    headers: { authorization: `Bearer ${token[who]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

interface StepJson {
  id: string;
  status: string;
  detail: string;
}

test('identify and the full run over the API: the run pauses for the front panel, confirm finishes it', async () => {
  const bench = await serveBench({ model: 'DDSU666', serial: '200322016690', energyKWh: 99.5 });
  gateways.push(bench.tcp);
  try {
    const id = await call('POST', '/api/converter/identify', { tcp: bench.tcp, timeoutMs: 300 });
    assert.equal(id.status, 200);
    assert.equal(id.json.serial, '200322016690');
    assert.equal(id.json.energyKWh, 99.5);
    assert.equal((id.json.steps as StepJson[])[0]?.status, 'ok');

    const started = await call('POST', '/api/converter/run', { tcp: bench.tcp, timeoutMs: 300, model: 'DDSU666', address: 7, serial: '200322016690' });
    assert.equal(started.status, 200);
    assert.equal(started.json.state, 'waiting-for-operator');
    assert.ok((started.json.instructions as string[]).some((l) => /password 701/.test(l)));
    assert.deepEqual(
      (started.json.steps as StepJson[]).map((s) => `${s.id}:${s.status}`),
      ['plan:ok', 'identify:ok', 'protocol-switch:running'],
    );
    const runId = String(started.json.runId);
    const busy = await call('POST', '/api/converter/run', { tcp: bench.tcp, model: 'DDSU666', address: 8 });
    assert.equal(busy.status, 409);

    bench.meter.frontPanel.setProtocol('n.2');
    const done = await call('POST', `/api/converter/runs/${runId}/confirm`);
    assert.equal(done.status, 200);
    assert.equal(done.json.state, 'done');
    const result = done.json.result as { ok: boolean; address: number };
    assert.equal(result.ok, true);
    assert.equal(result.address, 7);
    assert.equal((done.json.steps as StepJson[]).length, 6);
    assert.equal(bench.meter.modbusAddress, 7);
    assert.equal((await call('GET', `/api/converter/runs/${runId}`)).json.state, 'done');
  } finally {
    await bench.close();
  }
});

test('a run that fails before the operator step answers at once with the failed step', async () => {
  const bench = await serveBench({ model: 'DDSU666', serial: '200322016690' });
  gateways.push(bench.tcp);
  try {
    const r = await call('POST', '/api/converter/run', { tcp: bench.tcp, timeoutMs: 300, model: 'DDSU666', address: 9, serial: '111111111111' });
    assert.equal(r.json.state, 'failed');
    const result = r.json.result as { failedStep: string; reason: string };
    assert.equal(result.failedStep, 'identify');
    assert.match(result.reason, /the meter on the bench is 200322016690 but the plan is for 111111111111/);
  } finally {
    await bench.close();
  }
});

test('installer role, one line, /dev paths only; documented in OpenAPI', async () => {
  assert.equal((await call('POST', '/api/converter/identify', { tcp: '127.0.0.1:1' }, 'viewer')).status, 403);
  const both = await call('POST', '/api/converter/identify', { tcp: '127.0.0.1:1', port: '/dev/ttyUSB0' });
  assert.equal(both.status, 400);
  assert.match(String(both.json.error), /exactly one of tcp/);
  assert.equal((await call('POST', '/api/converter/identify', { port: '/etc/passwd' })).status, 400);
  const dotdot = await call('POST', '/api/converter/identify', { port: '/dev/../etc/passwd' });
  assert.equal(dotdot.status, 400);
  assert.match(
    String(dotdot.json.error),
    /port: "\/dev\/\.\.\/etc\/passwd" \(it resolves to \/etc\/passwd\) is not a bench serial device; allowed: a serial device whose real path starts with \/dev\/ttyUSB/,
  );
  const devNull = await call('POST', '/api/converter/identify', { port: '/dev/null' });
  assert.match(String(devNull.json.error), /"\/dev\/null" is not a bench serial device/);
  const elsewhere = await call('POST', '/api/converter/run', { tcp: '10.0.0.1:22', model: 'DDSU666', address: 9 });
  assert.equal(elsewhere.status, 400);
  assert.match(String(elsewhere.json.error), /tcp: 10\.0\.0\.1:22 is not a configured gateway; allowed: 127\.0\.0\.1:\d+/);
  assert.equal((await call('POST', '/api/converter/run', { tcp: '127.0.0.1:1', model: 'DDSU666', address: 1 })).status, 400);
  assert.equal((await call('GET', '/api/converter/runs/00000000-0000-4000-8000-000000000000')).status, 404);
  const doc = buildOpenApi(routes.documented, 'test') as { paths: Record<string, unknown> };
  assert.ok(doc.paths['/api/converter/run'] && doc.paths['/api/converter/runs/{id}/confirm']);
});
