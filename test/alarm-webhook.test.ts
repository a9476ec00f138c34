import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import { startAlarms, type Alarms } from '../src/alarms/engine.js';
import { Outbox } from '../src/alarms/outbox.js';
import { SIGNATURE_HEADER, signBody } from '../src/alarms/webhook-message.js';
import { openDatabase, type StoreDb } from '../src/store/database.js';
import { startSimSite, type SimSite } from './helpers/site.js';

const SECRET = 'a-webhook-secret-of-32-characters';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Received {
  readonly body: string;
  readonly signature: string | undefined;
  readonly status: number;
}

/** A real HTTP receiver; `failNext` answers 503 to that many requests first. */
async function receiver(): Promise<{ url: string; got: Received[]; failNext: number; server: Server }> {
  const state = { url: '', got: [] as Received[], failNext: 0, server: createServer() };
  state.server.on('request', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = state.failNext > 0 ? 503 : 204;
      if (state.failNext > 0) state.failNext--;
      const sig = req.headers[SIGNATURE_HEADER];
      state.got.push({ body: Buffer.concat(chunks).toString('utf8'), signature: typeof sig === 'string' ? sig : undefined, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => state.server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(state.server.address() as AddressInfo).port}/hook`;
  return state;
}

const validSignature = (r: Received): boolean => {
  if (!r.signature) return false;
  const want = Buffer.from(signBody(SECRET, r.body));
  const got = Buffer.from(r.signature);
  return want.length === got.length && timingSafeEqual(want, got);
};

interface Message {
  id: string;
  event: string;
  by: string;
  note: string | null;
  site: { id: string };
  alarm: { id: number; rule: string; subject: string; state: string; message: string; acknowledged: { by: string } | null };
}
const parse = (r: Received): Message => JSON.parse(r.body) as Message;

async function until(cond: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function engine(s: SimSite, db: StoreDb, url: string): Alarms {
  const config = { ...s.config, alarms: { ...s.config.alarms, webhook: { url, secret: SECRET } } };
  return startAlarms({ db, site: s.site, config, periodicMs: 0, webhook: { retryBaseMs: 50 }, onError: () => undefined });
}

test('raise, ack and clear reach the webhook in order, signed; a failed delivery is retried', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-webhook-'));
  const rx = await receiver();
  const s = await startSimSite({ customers: 2 });
  const db = openDatabase(path.join(dir, 'mgos.db'));
  const alarms = engine(s, db, rx.url);
  t.after(async () => {
    await alarms.stop();
    await s.close();
    db.close();
    rx.server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  rx.failNext = 1;
  const raised = alarms.reportStatusCode('meter2', 1005);
  assert.ok(raised.alarm);
  alarms.store.acknowledge(raised.alarm.id, 'alice', 'sending a technician');
  alarms.reportStatusCode('meter2', 1000, undefined, 'bob');
  // The receiver sees a message just before the sender hears the answer and empties the outbox.
  await until(() => new Outbox(db).pending() === 0, 'the outbox to drain');
  assert.equal(rx.got.length, 4, 'one failure, then three deliveries');
  assert.equal(rx.got[0]?.status, 503);
  assert.equal(rx.got[0].body, rx.got[1]?.body, 'the retry sends the very same message (same id)');
  assert.ok(rx.got.every(validSignature), 'every request carries a valid HMAC-SHA256 signature');
  const delivered = rx.got.slice(1).map(parse);
  assert.deepEqual(
    delivered.map((m) => [m.event, m.by, m.alarm.state]),
    [
      ['alarm.raised', 'system', 'open'],
      ['alarm.acknowledged', 'alice', 'open'],
      ['alarm.cleared', 'bob', 'cleared'],
    ],
  );
  assert.equal(new Set(delivered.map((m) => m.id)).size, 3);
  assert.ok(delivered.every((m) => m.alarm.id === raised.alarm?.id && m.alarm.subject === 'meter2' && m.site.id === 'test'));
  assert.match(delivered[0]?.alarm.message ?? '', /Reseal cover/);
  assert.equal(delivered[1]?.note, 'sending a technician');
  assert.equal(delivered[2]?.alarm.acknowledged?.by, 'alice', 'the clear message carries the acknowledgement');
  const first = rx.got[1];
  assert.ok(first);
  assert.equal(validSignature({ ...first, body: first.body.replace('meter2', 'meter3') }), false, 'a changed body fails the signature');
});

test('a restart keeps open alarms and the messages not yet delivered', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-webhook-'));
  const file = path.join(dir, 'mgos.db');
  const rx = await receiver();
  const s = await startSimSite({ customers: 2 });
  t.after(async () => {
    await s.close();
    rx.server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  rx.failNext = 1_000; // the receiver is down
  let db = openDatabase(file);
  let alarms = engine(s, db, rx.url);
  const id = alarms.reportStatusCode('meter3', 1018).alarm?.id;
  alarms.reportStatusCode('meter2', 1013);
  await until(() => rx.got.length >= 1, 'a first, failed attempt');
  await alarms.stop();
  db.close();
  const refused = rx.got.length;

  rx.failNext = 0; // the receiver is back; mgos restarts
  db = openDatabase(file);
  assert.equal(new Outbox(db).pending(), 2, 'both messages waited in the outbox across the restart');
  alarms = engine(s, db, rx.url);
  t.after(async () => {
    await alarms.stop();
    db.close();
  });
  assert.equal(alarms.store.findOpen('status_code', 'meter3')?.id, id, 'the open alarm is still open');
  assert.equal(alarms.store.list().length, 2);
  await until(() => new Outbox(db).pending() === 0, 'the outbox to drain');
  const delivered = rx.got
    .slice(refused)
    .filter((r) => r.status === 204)
    .map(parse);
  assert.deepEqual(
    delivered.map((m) => `${m.event} ${m.alarm.subject}`),
    ['alarm.raised meter3', 'alarm.raised meter2'],
    'in order',
  );
  assert.match(delivered[0]?.alarm.message ?? '', /Bypass \(illegal connection\)/);
});
