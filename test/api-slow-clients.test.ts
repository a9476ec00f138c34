import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { HTTP_LIMITS, STREAM_KEEPALIVE_MS } from '../src/api/http-limits.js';
import { startApiServer, type ApiServer } from './helpers/api-server.js';
import { httpClient } from './helpers/http.js';

// An attacker's view of the API server (docs/architecture.md#decisions, "Slow and idle clients are bounded") over raw TCP sockets at the
// server's own limits: a silent connection, a slowloris, a slow body, 200 idle connections, while an
// operator's requests and live stream go on. Real time is measured (the limits are Node's own timers);
// the scenarios run side by side so the file takes about the slow body's 30 s; bounds carry a margin.

let api: ApiServer;
let token = '';
const client = httpClient(() => api.base);
const secs = (ms: number): number => ms / 1000;

before(async () => {
  api = await startApiServer({ users: [['olivia', 'operator password 1', 'operator']] });
  token = await client.login('olivia', 'operator password 1');
});

after(async () => {
  await api.close();
});

function rawSocket(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: api.port }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Seconds from now until the server closes `s` (a reset counts as closed), and what it sent before. */
function closing(s: Socket): Promise<{ secs: number; answer: string }> {
  const t0 = performance.now();
  let answer = '';
  s.on('error', () => undefined);
  s.on('data', (d: Buffer) => (answer += d.toString('latin1')));
  return new Promise((resolve) => s.once('close', () => resolve({ secs: secs(performance.now() - t0), answer })));
}

/** Writes `byte` once a second until the connection is closed. */
function drip(s: Socket, byte: string, closed: Promise<unknown>): void {
  const timer = setInterval(() => s.write(byte), 1000);
  void closed.finally(() => clearInterval(timer));
}

/** An operator's ordinary request, answered within 3 s. */
async function operatorGets(): Promise<number> {
  const r = await Promise.race([
    client.call('GET', '/api/site', { token }),
    sleep(3000).then(() => {
      throw new Error('/api/site not answered within 3 s');
    }),
  ]);
  assert.equal(r.json.id, 'test');
  return r.status;
}

const range = (xs: number[]): string => `${Math.min(...xs).toFixed(2)}..${Math.max(...xs).toFixed(2)} s`;
const idle = secs(HTTP_LIMITS.socketIdleMs);
const headers = secs(HTTP_LIMITS.headersMs);
const whole = secs(HTTP_LIMITS.requestMs);

describe('slow and idle clients', { concurrency: true }, () => {
  test(`slowloris (a header byte a second) is answered 408 and closed at the ${headers} s headers timeout; the operator is answered meanwhile`, async () => {
    const s = await rawSocket();
    const closed = closing(s);
    s.write('GET /api/site HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    drip(s, 'a', closed);
    await sleep(2000);
    assert.equal(await operatorGets(), 200);
    const { secs: held, answer } = await closed;
    console.log(`slowloris closed after ${held.toFixed(2)} s`);
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.ok(held > headers - 1 && held < headers + 3, `closed after ${held} s`);
  });

  // Node 20 over plain HTTP starts the headers clock when the connection is accepted, so a silent peer
  // gets a 408 at the headers timeout; the idle timeout is the bound that holds whatever Node does.
  test(`a silent connection is closed within the ${idle} s socket idle timeout`, async () => {
    const { secs: held } = await closing(await rawSocket());
    console.log(`silent connection closed after ${held.toFixed(2)} s`);
    assert.ok(held > headers - 1 && held < idle + 3, `closed after ${held} s`);
  });

  test(`a request whose body stops (headers in, then silence) is closed at the ${idle} s socket idle timeout`, async () => {
    const s = await rawSocket();
    const closed = closing(s);
    s.write('POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"user');
    const { secs: held } = await closed;
    console.log(`stalled body closed after ${held.toFixed(2)} s`);
    assert.ok(held > idle - 1 && held < idle + 3, `closed after ${held} s`);
  });

  test(`a slow body (Content-Length 100000, a byte a second) is answered 408 and closed at the ${whole} s request timeout`, async () => {
    const s = await rawSocket();
    const closed = closing(s);
    s.write('POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n');
    drip(s, ' ', closed);
    const { secs: held, answer } = await closed;
    console.log(`slow body closed after ${held.toFixed(2)} s`);
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.ok(held > whole - 1 && held < whole + 3, `closed after ${held} s`);
  });

  test(`200 idle connections: the operator is still answered, and all 200 are closed within the ${idle} s idle timeout`, async () => {
    const t0 = performance.now();
    const sockets = await Promise.all(Array.from({ length: 200 }, () => rawSocket()));
    const closed = sockets.map((s) => closing(s).then(() => secs(performance.now() - t0)));
    // Half of them have begun a request and stopped (no byte after the first).
    sockets.slice(0, 100).forEach((s) => s.write('G'));
    await sleep(500);
    const answered = performance.now();
    assert.equal(await operatorGets(), 200);
    console.log(`operator answered in ${(performance.now() - answered).toFixed(0)} ms with 200 idle connections held`);
    const held = await Promise.all(closed);
    console.log(`200 idle connections closed after ${range(held)}`);
    // Those that began a request are closed at the headers timeout, the silent ones by then or (the
    // bound that holds whatever Node does) at the idle timeout.
    assert.ok(
      held.slice(0, 100).every((x) => x > headers - 1 && x < headers + 3),
      `begun ones closed after ${range(held.slice(0, 100))}`,
    );
    assert.ok(
      held.slice(100).every((x) => x > headers - 1 && x < idle + 3),
      `silent ones closed after ${range(held.slice(100))}`,
    );
  });

  test(`the live stream outlives the idle (${idle} s) and request (${whole} s) timeouts: a keep-alive every ${secs(STREAM_KEEPALIVE_MS)} s`, async () => {
    const res = await fetch(`${api.base}/api/stream`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    assert.ok(res.body);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let received = '';
    let ended = false;
    const pump = (async () => {
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) break;
        received += decoder.decode(chunk.value, { stream: true });
      }
    })()
      .catch(() => undefined)
      .finally(() => (ended = true));
    // No meters are polled here: nothing but the keep-alive comments crosses the connection.
    await sleep(HTTP_LIMITS.requestMs + 2000);
    const keepAlives = received.split(': keep-alive').length - 1;
    console.log(`live stream open after ${secs(HTTP_LIMITS.requestMs + 2000)} s with ${keepAlives} keep-alive comments`);
    assert.equal(ended, false, 'the stream was cut');
    assert.match(received, /^event: overview/);
    assert.ok(keepAlives >= Math.floor((HTTP_LIMITS.requestMs + 2000) / STREAM_KEEPALIVE_MS) - 1, `${keepAlives} keep-alive comments`);
    await reader.cancel();
    await pump;
  });
});
