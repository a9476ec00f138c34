import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { startAlarms, type Alarms } from '../src/alarms/engine.js';
import { alarmStreamSource, registerAlarmRoutes } from '../src/alarms/routes.js';
import { createApiServer } from '../src/api/server.js';
import { UserStore } from '../src/auth/user-store.js';
import { startSimSite, type SimSite } from './helpers/site.js';
import { tempDb } from './helpers/temp-db.js';

let s: SimSite;
let alarms: Alarms;
let http: FastifyInstance;
let base = '';
const tokens: Record<string, string> = {};
const cleanups: Array<() => void> = [];

interface Res {
  status: number;
  json: Record<string, unknown>;
}

async function call(method: string, url: string, opts: { as?: string; body?: unknown } = {}): Promise<Res> {
  const token = opts.as ? tokens[opts.as] : undefined;
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

interface AlarmJson {
  id: number;
  rule: string;
  subject: string;
  severity: string;
  state: string;
  message: string;
  raisedAt: number;
  clearedAt: number | null;
  acknowledged: { by: string; at: number; note: string | null } | null;
  events?: { at: number; kind: string; by: string; message: string | null }[];
}

before(async () => {
  s = await startSimSite({ customers: 3 });
  const db = tempDb({ after: (fn) => cleanups.push(fn) });
  const users = new UserStore(db);
  await users.create('olivia', 'operator password 1', 'operator');
  await users.create('victor', 'viewer password 1', 'viewer');
  alarms = startAlarms({ db, site: s.site, config: s.config, periodicMs: 0, diskProbe: () => Promise.resolve({ freeBytes: 50, totalBytes: 100 }) });
  http = await createApiServer({
    site: s.site,
    users,
    version: 'test',
    extraRoutes: [(routes) => registerAlarmRoutes(routes, alarms)],
    streamSources: [alarmStreamSource(alarms)],
  });
  await http.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}`;
  for (const [user, password] of [
    ['olivia', 'operator password 1'],
    ['victor', 'viewer password 1'],
  ] as const) {
    const r = await call('POST', '/api/login', { body: { username: user, password } });
    tokens[user] = r.json.token as string;
  }
});

after(async () => {
  await http.close();
  await alarms.stop();
  await s.close();
  for (const c of cleanups) c();
});

test('a status code reported by an operator raises an alarm with the field action; 1000 clears it; history shows who', async () => {
  assert.equal((await call('POST', '/api/meters/meter2/status-code', { body: { code: 1005 } })).status, 401);
  const denied = await call('POST', '/api/meters/meter2/status-code', { as: 'victor', body: { code: 1005 } });
  assert.equal(denied.status, 403);
  const r = await call('POST', '/api/meters/meter2/status-code', { as: 'olivia', body: { code: 1005 } });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const alarm = r.json.alarm as AlarmJson;
  assert.equal(alarm.rule, 'status_code');
  assert.equal(alarm.subject, 'meter2');
  assert.equal(alarm.severity, 'major');
  assert.match(alarm.message, /1005 \(Code 87 sub-code 5\): Open Upper Cover \(tamper\)\. Action: Reseal cover \+ enter clear tamper token\./);
  assert.equal((r.json.code as { action: string }).action, 'Reseal cover + enter clear tamper token.');

  const again = await call('POST', '/api/meters/meter2/status-code', { as: 'olivia', body: { code: 1005 } });
  assert.equal((again.json.alarm as AlarmJson).id, alarm.id, 'the same code again does not duplicate');

  const listed = await call('GET', '/api/alarms?meter=meter2', { as: 'victor' });
  assert.deepEqual(
    (listed.json.alarms as AlarmJson[]).map((a) => a.id),
    [alarm.id],
  );
  assert.deepEqual(Object.keys((listed.json.alarms as AlarmJson[])[0] ?? {}).sort(), [
    'acknowledged',
    'clearedAt',
    'id',
    'message',
    'raisedAt',
    'rule',
    'severity',
    'state',
    'subject',
  ]);

  const cleared = await call('POST', '/api/meters/meter2/status-code', { as: 'olivia', body: { code: 1000 } });
  assert.equal((cleared.json.alarm as AlarmJson).state, 'cleared');
  assert.deepEqual(((await call('GET', '/api/alarms?meter=meter2', { as: 'victor' })).json.alarms as AlarmJson[]).length, 0, 'default: open only');
  const history = await call('GET', '/api/alarms?state=cleared&meter=meter2', { as: 'victor' });
  assert.deepEqual(
    (history.json.alarms as AlarmJson[]).map((a) => a.id),
    [alarm.id],
  );
  const one = (await call('GET', `/api/alarms/${alarm.id}`, { as: 'victor' })).json as unknown as AlarmJson;
  assert.deepEqual(
    one.events?.map((e) => [e.kind, e.by]),
    [
      ['raised', 'olivia'],
      ['cleared', 'olivia'],
    ],
  );
});

test('unknown codes and meters are refused with a clear error and change nothing', async () => {
  const all = (await call('GET', '/api/alarms?state=all', { as: 'victor' })).json.alarms as AlarmJson[];
  const bad = await call('POST', '/api/meters/meter3/status-code', { as: 'olivia', body: { code: 1002 } });
  assert.equal(bad.status, 400);
  assert.match(bad.json.error as string, /unknown meter status code 1002; known codes: 1000, 1001, 1003/);
  const noMeter = await call('POST', '/api/meters/meter99/status-code', { as: 'olivia', body: { code: 1005 } });
  assert.equal(noMeter.status, 404);
  assert.match(noMeter.json.error as string, /no meter meter99/);
  assert.equal((await call('POST', '/api/meters/meter3/status-code', { as: 'olivia', body: { code: 'x' } })).status, 400);
  assert.equal((await call('GET', '/api/alarms?state=closed', { as: 'victor' })).status, 400);
  assert.equal((await call('GET', '/api/alarms/abc', { as: 'victor' })).status, 400);
  assert.equal((await call('GET', '/api/alarms/99999', { as: 'victor' })).status, 404);
  assert.equal(((await call('GET', '/api/alarms?state=all', { as: 'victor' })).json.alarms as AlarmJson[]).length, all.length);
});

test('acknowledging needs an operator, records who, when and the note, and happens once', async () => {
  const raised = await call('POST', '/api/meters/meter4/status-code', { as: 'olivia', body: { code: 1018 } });
  const id = (raised.json.alarm as AlarmJson).id;
  assert.equal((await call('POST', `/api/alarms/${id}/ack`, { body: {} })).status, 401);
  assert.equal((await call('POST', `/api/alarms/${id}/ack`, { as: 'victor', body: {} })).status, 403);
  const t0 = Date.now();
  const ack = await call('POST', `/api/alarms/${id}/ack`, { as: 'olivia', body: { note: 'technician dispatched' } });
  assert.equal(ack.status, 200, JSON.stringify(ack.json));
  const acknowledged = (ack.json as unknown as AlarmJson).acknowledged;
  assert.equal(acknowledged?.by, 'olivia');
  assert.equal(acknowledged.note, 'technician dispatched');
  assert.ok(acknowledged.at >= t0 && acknowledged.at <= Date.now());
  const twice = await call('POST', `/api/alarms/${id}/ack`, { as: 'olivia', body: {} });
  assert.equal(twice.status, 409);
  assert.match(twice.json.error as string, /already acknowledged by olivia/);
  const events = ((await call('GET', `/api/alarms/${id}`, { as: 'victor' })).json as unknown as AlarmJson).events ?? [];
  assert.deepEqual(events.map((e) => [e.kind, e.by, e.message]).at(-1), ['acknowledged', 'olivia', 'technician dispatched']);
  assert.equal((await call('POST', '/api/alarms/99999/ack', { as: 'olivia', body: {} })).status, 404);
});

test('the built-in code table is served, and the routes are in the OpenAPI document', async () => {
  const codes = (await call('GET', '/api/alarm-codes', { as: 'victor' })).json.codes as {
    code: number;
    subCode: number;
    meaning: string;
    action: string;
    severity: string;
  }[];
  assert.equal(codes.length, 22);
  assert.deepEqual(
    codes.find((c) => c.code === 1008),
    { code: 1008, subCode: 8, meaning: 'Not-active (meter not commissioned)', action: 'Commission meter (default code: 12345).', severity: 'major' },
  );
  const doc = (await call('GET', '/api/openapi.json')).json as { paths: Record<string, unknown> };
  for (const p of ['/api/alarms', '/api/alarms/{id}', '/api/alarms/{id}/ack', '/api/meters/{key}/status-code', '/api/alarm-codes']) assert.ok(doc.paths[p], p);
});

test('alarm changes are pushed on the live stream as `alarm` events', async () => {
  const ctl = new AbortController();
  const res = await fetch(`${base}/api/stream`, { headers: { authorization: `Bearer ${tokens.victor}` }, signal: ctl.signal });
  assert.equal(res.status, 200);
  const reader = (res.body as ReadableStream<Uint8Array> | null)?.getReader();
  assert.ok(reader);
  const decoder = new TextDecoder();
  let text = '';
  const nextAlarmEvent = async (): Promise<AlarmJson & { event: { kind: string; by: string } }> => {
    for (;;) {
      const m = /event: alarm\ndata: (.*)\n\n/.exec(text);
      if (m?.[1]) {
        text = text.slice(m.index + m[0].length);
        return JSON.parse(m[1]) as AlarmJson & { event: { kind: string; by: string } };
      }
      const { value, done } = await reader.read();
      assert.ok(!done, 'the stream ended');
      text += decoder.decode(value, { stream: true });
    }
  };
  try {
    await call('POST', '/api/meters/meter3/status-code', { as: 'olivia', body: { code: 1022 } });
    const e = await nextAlarmEvent();
    assert.equal(e.subject, 'meter3');
    assert.equal(e.severity, 'critical');
    assert.deepEqual([e.event.kind, e.event.by], ['raised', 'olivia']);
    assert.match(e.message, /Thermal Overload/);
  } finally {
    ctl.abort();
  }
});
