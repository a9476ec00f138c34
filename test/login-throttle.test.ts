import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { siteConfigSchema } from '../src/config/site-config.js';
import { startSystem } from '../src/system.js';
import { postJson, startApiServer } from './helpers/api-server.js';

const ADMIN = ['admin', 'the admin password', 'admin'] as const;
const VIEWER = ['viewer1', 'the viewer password', 'viewer'] as const;
const login = (base: string, username: string, password: string, headers?: Record<string, string>) =>
  postJson(base, '/api/login', { username, password }, { headers });

test('400 parallel wrong passwords: at most 5 are checked, the rest are refused unchecked, and the account stays blocked', async () => {
  const s = await startApiServer({ users: [ADMIN] });
  try {
    // Beyond the server's 256 connections at once (src/api/http-limits.ts) a connection is closed as soon
    // as it is accepted: such a guess fails at the connection (status 0 here), also unchecked.
    const results = await Promise.all(
      Array.from({ length: 400 }, (_, i) =>
        login(s.base, 'admin', `wrong guess ${i}`).then(
          (r) => r.status,
          () => 0,
        ),
      ),
    );
    const statuses = results;
    assert.ok(s.users.checks <= 5, `password checks: ${s.users.checks}`);
    assert.equal(statuses.filter((x) => x === 401).length, s.users.checks);
    assert.equal(statuses.filter((x) => x === 429 || x === 0).length, 400 - s.users.checks);
    assert.ok(statuses.filter((x) => x === 429).length >= 100, 'the throttle, not only the connection bound, refused them');
    const right = await login(s.base, 'admin', ADMIN[1]);
    assert.equal(right.status, 429, 'even the right password waits out the lock');
    assert.match(right.json.error as string, /too many failed attempts; try again in \d+ s/);
    assert.ok(Number(right.headers.get('retry-after')) > 0);
    assert.ok(s.users.checks <= 5, 'a locked account is refused before its password is hashed');
  } finally {
    await s.close();
  }
});

test('a successful login to another account from the same client does not clear the guesses at admin', async () => {
  const s = await startApiServer({ users: [ADMIN, VIEWER] });
  try {
    // The attack of issue 8: four guesses, then a login to one's own account, over and over.
    let blockedAt = -1;
    for (let round = 0; round < 6 && blockedAt < 0; round++) {
      for (let i = 0; i < 4; i++) {
        const r = await login(s.base, 'admin', `guess ${round}-${i}`);
        if (r.status === 429) {
          blockedAt = round * 4 + i;
          break;
        }
        assert.equal(r.status, 401);
      }
      assert.equal((await login(s.base, VIEWER[0], VIEWER[1])).status, 200, 'the viewer is not locked out by guesses at admin');
    }
    assert.equal(blockedAt, 5, 'the sixth guess at admin is refused');
    assert.equal((await login(s.base, 'admin', ADMIN[1])).status, 429);
  } finally {
    await s.close();
  }
});

test('password changes count against the same throttle as logins', async () => {
  const s = await startApiServer({ users: [VIEWER] });
  try {
    const token = (await login(s.base, VIEWER[0], VIEWER[1])).json.token as string;
    for (let i = 0; i < 5; i++) {
      const r = await postJson(s.base, '/api/me/password', { currentPassword: `guess ${i}`, newPassword: 'a new password 1' }, { token });
      assert.equal(r.status, 400);
    }
    const r = await postJson(s.base, '/api/me/password', { currentPassword: VIEWER[1], newPassword: 'a new password 1' }, { token });
    assert.equal(r.status, 429, 'the sixth guess is refused, right or not');
    assert.equal((await login(s.base, VIEWER[0], VIEWER[1])).status, 429, 'and logging in to that account from here is blocked too');
    assert.equal(s.users.checks, 6, 'one check per allowed guess plus the first login');
  } finally {
    await s.close();
  }
});

test('an untrusted X-Forwarded-For is ignored: inventing addresses does not escape the lock', async () => {
  const s = await startApiServer({ users: [ADMIN] });
  try {
    for (let i = 0; i < 5; i++) assert.equal((await login(s.base, 'admin', `guess ${i}`, { 'x-forwarded-for': `198.51.100.${i}` })).status, 401);
    assert.equal((await login(s.base, 'admin', ADMIN[1], { 'x-forwarded-for': '198.51.100.77' })).status, 429);
  } finally {
    await s.close();
  }
});

test('http.trustProxy: behind a configured proxy two clients are throttled separately; the session cookie can be Secure', async () => {
  assert.equal(siteConfigSchema.safeParse({ site: { id: 'x', name: 'x' }, http: { trustProxy: ['10.0.0.0/33'] } }).success, false);
  assert.equal(siteConfigSchema.safeParse({ site: { id: 'x', name: 'x' }, http: { trustProxy: ['proxy.example'] } }).success, false);
  assert.deepEqual(siteConfigSchema.parse({ site: { id: 'x', name: 'x' } }).http, { host: '127.0.0.1', port: 8080, trustProxy: [], secureCookies: false });
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-proxy-'));
  const sys = await startSystem({
    config: {
      site: { id: 'proxy', name: 'Behind a proxy' },
      storage: { path: path.join(dir, 'mgos.db') },
      http: { port: 0, trustProxy: ['127.0.0.1', '10.0.0.0/8'], secureCookies: true },
      buses: [],
      meters: [],
    },
    adminPassword: ADMIN[1],
    logger: pino({ level: 'silent' }),
  });
  try {
    const a = { 'x-forwarded-for': '203.0.113.5' };
    const b = { 'x-forwarded-for': '203.0.113.6' };
    for (let i = 0; i < 5; i++) assert.equal((await login(sys.url, 'admin', `guess ${i}`, a)).status, 401);
    assert.equal((await login(sys.url, 'admin', ADMIN[1], a)).status, 429, 'client A is locked out of admin');
    const ok = await login(sys.url, 'admin', ADMIN[1], b);
    assert.equal(ok.status, 200, 'client B, behind the same proxy, is not');
    assert.match(ok.headers.get('set-cookie') ?? '', /; Secure/);
  } finally {
    await sys.close();
  }
});
