import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SmsOutbox } from '../src/notifications/sms-outbox.js';
import { LogFileSmsProvider, type SmsProvider } from '../src/notifications/sms-provider.js';
import { SmsSender } from '../src/notifications/sms-sender.js';
import { openDatabase } from '../src/store/database.js';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-sms-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

class FlakyProvider implements SmsProvider {
  readonly sent: Array<{ to: string; text: string }> = [];
  constructor(private failures: number) {}
  send(to: string, text: string): Promise<{ id: string }> {
    if (this.failures > 0) {
      this.failures--;
      return Promise.reject(new Error('gateway 503'));
    }
    this.sent.push({ to, text });
    return Promise.resolve({ id: `gw-${this.sent.length}` });
  }
}

test('a failing provider is retried with growing back-off, and the queue survives a restart', async (t) => {
  const file = path.join(tempDir(t), 'mgos.db');
  let now = Date.parse('2026-04-07T07:00:00Z');
  const clock = () => now;
  const db1 = openDatabase(file);
  const flaky = new FlakyProvider(2);
  const sender1 = new SmsSender(new SmsOutbox(db1), flaky, { clock, baseBackoffMs: 1000 });
  const id = sender1.notify('+256700000001', { kind: 'receipt', name: 'Amina', amount: 'UGX 5,000', balance: 'UGX 7,500' });
  assert.equal(typeof id, 'number', 'notify returns at once with the outbox id');

  assert.equal(await sender1.deliverDue(), 0);
  let [row] = new SmsOutbox(db1).all();
  assert.deepEqual([row?.state, row?.attempts, row?.nextAt, row?.lastError], ['queued', 1, now + 1000, 'gateway 503']);
  assert.equal(await sender1.deliverDue(), 0, 'not due before its back-off');
  now += 1000;
  assert.equal(await sender1.deliverDue(), 0);
  [row] = new SmsOutbox(db1).all();
  assert.deepEqual([row?.attempts, row?.nextAt], [2, now + 2000], 'the back-off doubles');
  db1.close(); // "power cut"

  now += 2000;
  const db2 = openDatabase(file);
  t.after(() => db2.close());
  const good = new FlakyProvider(0);
  const sender2 = new SmsSender(new SmsOutbox(db2), good, { clock, baseBackoffMs: 1000 });
  assert.equal(await sender2.deliverDue(), 1);
  assert.deepEqual(good.sent, [{ to: '+256700000001', text: 'Dear Amina, we received UGX 5,000. Your balance is UGX 7,500. Thank you.' }]);
  [row] = new SmsOutbox(db2).all();
  assert.deepEqual([row?.state, row?.providerId, row?.attempts], ['sent', 'gw-1', 3]);
  assert.equal(await sender2.deliverDue(), 0, 'a sent message is never sent again');
});

test('the caller is never blocked by a gateway that hangs', async (t) => {
  const db = openDatabase(path.join(tempDir(t), 'mgos.db'));
  t.after(() => db.close());
  const hanging: SmsProvider = { send: () => new Promise(() => undefined) };
  const sender = new SmsSender(new SmsOutbox(db), hanging, { pollMs: 10, sendTimeoutMs: 30 });
  sender.start();
  const started = performance.now();
  for (let i = 0; i < 5; i++) sender.notify('+256700000002', { kind: 'low-balance', name: 'Joseph', balance: 'UGX 300' });
  assert.ok(performance.now() - started < 1000, 'notify returned although the gateway never answers');
  assert.equal(new SmsOutbox(db).all().length, 5);
  await new Promise((r) => setTimeout(r, 100));
  await sender.stop();
  const first = new SmsOutbox(db).all()[0];
  assert.equal(first?.state, 'queued');
  assert.match(first.lastError ?? '', /did not answer within 30 ms/);
});

test('the default provider writes one JSON line per message', async (t) => {
  const log = path.join(tempDir(t), 'sms.log');
  const p = new LogFileSmsProvider(log);
  const a = await p.send('+256700000003', 'hello');
  await p.send('+256700000004', 'world');
  const lines = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { id: string; to: string; text: string });
  assert.equal(lines.length, 2);
  assert.deepEqual([lines[0]?.id, lines[0]?.to, lines[0]?.text], [a.id, '+256700000003', 'hello']);
});
