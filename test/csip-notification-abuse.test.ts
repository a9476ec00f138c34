import assert from 'node:assert/strict';
import { request } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeConformancePki, type Pki } from '../src/csip/conformance/pki.js';
import { NotificationServer } from '../src/csip/notification-server.js';
import { NS } from './helpers/csip-fixtures.js';

// An attacker's view of the notification endpoint (docs/csip.md#subscriptions) over real TLS sockets, at
// the server's default limits: slow headers, a slow body, idle and never-handshaking connections. Real
// time is measured (the limits are Node's own timers); bounds carry a margin for a loaded machine.

let pki: Pki;
let rogue: Pki;
let server: NotificationServer;
let port = 0;
const applied: string[] = [];

const notification = (resource: string): string =>
  `<Notification ${NS}><subscribedResource>${resource}</subscribedResource><status>0</status><subscriptionURI>https://127.0.0.1/edev/1/sub/1</subscriptionURI></Notification>`;

before(async () => {
  pki = makeConformancePki();
  rogue = makeConformancePki();
  // The device is the TLS server here; the utility's certificate (signed by the same CA) is the client's.
  server = new NotificationServer({
    cert: pki.deviceCert,
    key: pki.deviceKey,
    ca: pki.caCert,
    host: '127.0.0.1',
    port: 0,
    path: '/notify',
    maxBodyBytes: 8192,
    onNotification: (n) => {
      applied.push(n.subscribedResource);
      return Promise.resolve();
    },
  });
  port = await server.start();
});

after(async () => {
  await server.close();
});

/** A well-behaved notification, as the utility sends it; resolves with the status or rejects. */
function notify(resource: string): Promise<number> {
  const body = notification(resource);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/notify',
        method: 'POST',
        cert: pki.serverCert,
        key: pki.serverKey,
        ca: pki.caCert,
        agent: false,
        headers: { 'content-type': 'application/sep+xml', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.setTimeout(3000, () => req.destroy(new Error('no answer within 3 s')));
    req.on('error', reject);
    req.end(body);
  });
}

/** A TLS connection (handshake done) with the utility's certificate, or the rogue CA's. */
function tlsSocket(valid = true): Promise<Socket> {
  const as = valid ? pki : rogue;
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, cert: as.serverCert, key: as.serverKey, ca: pki.caCert, servername: 'localhost' }, () => resolve(s));
    s.once('error', reject);
  });
}

/** A TCP connection that never starts TLS. */
function rawSocket(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Seconds from now until the server closes `s` (errors such as a reset count as closed). */
function closedAfter(s: Socket): Promise<number> {
  return closing(s).then((c) => c.secs);
}

/** Also what the server sent before closing; read as it comes, so the close is seen when it happens. */
function closing(s: Socket): Promise<{ secs: number; answer: string }> {
  const t0 = performance.now();
  let answer = '';
  s.on('error', () => undefined);
  s.on('data', (d: Buffer) => (answer += d.toString('latin1')));
  return new Promise((resolve) => s.once('close', () => resolve({ secs: (performance.now() - t0) / 1000, answer })));
}

/** Writes `byte` once a second until the connection is closed. */
function drip(s: Socket, byte: string, closed: Promise<unknown>): void {
  const timer = setInterval(() => s.write(byte), 1000);
  void closed.finally(() => clearInterval(timer));
}

test('slow headers (slowloris): a byte of a header each second is dropped at the 5 s headersTimeout; others get through meanwhile', async () => {
  // Without a certificate from the configured CA the attack does not get past the handshake.
  const rogueSecs = await tlsSocket(false).then(closedAfter, () => 0);
  console.log(`rogue certificate closed after ${rogueSecs.toFixed(2)} s`);
  assert.ok(rogueSecs < 1, `rogue closed after ${rogueSecs} s`);
  const s = await tlsSocket();
  const closed = closing(s);
  s.write('POST /notify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sep+xml\r\nX-Slow: ');
  drip(s, 'a', closed);
  await sleep(1500);
  assert.equal(await notify('/derp/S1/derc'), 204);
  await server.idle();
  assert.ok(applied.includes('/derp/S1/derc'));
  const { secs, answer } = await closed;
  console.log(`slowloris closed after ${secs.toFixed(2)} s`);
  assert.match(answer, /^HTTP\/1\.1 408 /);
  assert.ok(secs > 4 && secs < 8, `closed after ${secs} s`);
});

test('slow body: headers complete, a body of 1000 bytes sent a byte a second is dropped at the 10 s requestTimeout', async () => {
  const s = await tlsSocket();
  const closed = closing(s);
  s.write('POST /notify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sep+xml\r\nContent-Length: 1000\r\n\r\n');
  drip(s, '<', closed);
  const { secs, answer } = await closed;
  console.log(`slow body closed after ${secs.toFixed(2)} s`);
  assert.match(answer, /^HTTP\/1\.1 408 /);
  assert.ok(secs > 9 && secs < 13, `closed after ${secs} s`);
});

test('connection exhaustion: 16 silent connections (8 TCP never starting TLS, 8 TLS) are closed within about 5 s, then a notification gets through', async () => {
  const t0 = performance.now();
  // The 16 slots: 8 TCP connections that never start TLS, 8 TLS connections (valid certificate) that send nothing.
  const raw = await Promise.all(Array.from({ length: 8 }, () => rawSocket()));
  const rawClosed = raw.map(closedAfter);
  await sleep(100);
  const idle = await Promise.all(Array.from({ length: 8 }, () => tlsSocket()));
  const idleClosed = idle.map(closedAfter);
  await sleep(100);
  // More than the limit: refused at once (closed before or right after the handshake).
  const extra = await Promise.allSettled(Array.from({ length: 4 }, () => tlsSocket()));
  const extraSecs = await Promise.all(extra.map((r) => (r.status === 'fulfilled' ? closedAfter(r.value) : Promise.resolve(0))));
  // A legitimate sender retried every 250 ms until answered.
  let refusal: string | undefined;
  for (;;) {
    try {
      assert.equal(await notify('/derp/X1/derc'), 204);
      break;
    } catch (e) {
      refusal ??= e instanceof Error ? e.message : String(e);
      await sleep(250);
    }
  }
  const lockout = (performance.now() - t0) / 1000;
  await server.idle();
  assert.ok(applied.includes('/derp/X1/derc'));
  const idleSecs = await Promise.all(idleClosed);
  const rawSecs = await Promise.all(rawClosed);
  const range = (xs: number[]): string => `${Math.min(...xs).toFixed(2)}..${Math.max(...xs).toFixed(2)} s`;
  console.log(`extra connections closed after ${range(extraSecs)}`);
  console.log(`notification refused (${refusal ?? 'never'}), accepted after ${lockout.toFixed(2)} s`);
  console.log(`raw TCP closed after ${range(rawSecs)}, idle TLS after ${range(idleSecs)}`);
  assert.ok(
    extraSecs.every((x) => x < 1),
    `extra connections closed after ${range(extraSecs)}`,
  );
  assert.ok(refusal !== undefined, 'the 17th connection is refused while 16 are held');
  assert.ok(
    rawSecs.every((x) => x > 4 && x < 8),
    `raw TCP closed after ${range(rawSecs)}`,
  );
  assert.ok(
    idleSecs.every((x) => x > 4 && x < 8),
    `idle TLS closed after ${range(idleSecs)}`,
  );
  assert.ok(lockout > 4 && lockout < 9, `accepted after ${lockout} s`);
});
