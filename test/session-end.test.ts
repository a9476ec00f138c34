import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserStore } from '../src/auth/user-store.js';
import { SESSION_RECHECK_MS } from '../src/api/stream-route.js';
import { openDatabase } from '../src/store/database.js';
import { postJson, startApiServer, type ApiServer } from './helpers/api-server.js';

const USER = ['olivia', 'operator password 1', 'operator'] as const;

interface OpenStream {
  /** Everything received so far. */
  text(): string;
  /** Resolves with what arrived once the server ends the stream; rejects after `ms`. */
  ended(ms: number): Promise<string>;
  cancel(): Promise<void>;
}

async function openStream(s: ApiServer, token: string): Promise<OpenStream> {
  const res = await fetch(`${s.base}/api/stream`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  assert.ok(res.body);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let received = '';
  let done = false;
  const pump = (async () => {
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      received += decoder.decode(chunk.value, { stream: true });
    }
    done = true;
  })().catch(() => {
    done = true;
  });
  const deadline = Date.now() + 5_000;
  while (!received.includes('event: overview') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.match(received, /event: overview/, 'the stream opens with the overview');
  return {
    text: () => received,
    ended: async (ms) => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the stream was still open after ${ms} ms`)), ms);
      });
      try {
        await Promise.race([pump, late]);
      } finally {
        clearTimeout(timer);
      }
      assert.ok(done);
      return received;
    },
    cancel: () => reader.cancel().catch(() => undefined),
  };
}

const login = async (s: ApiServer): Promise<string> => (await postJson(s.base, '/api/login', { username: USER[0], password: USER[1] })).json.token as string;
const me = async (s: ApiServer, token: string): Promise<number> => (await fetch(`${s.base}/api/me`, { headers: { authorization: `Bearer ${token}` } })).status;

test('logging out ends the open stream of that session', async () => {
  const s = await startApiServer({ users: [USER] });
  try {
    const token = await login(s);
    const stream = await openStream(s, token);
    assert.equal((await postJson(s.base, '/api/logout', {}, { token })).status, 200);
    const text = await stream.ended(1_000);
    assert.match(text, /event: session-ended/);
  } finally {
    await s.close();
  }
});

test('changing the password ends the other sessions and their streams; the session that changed it goes on', async () => {
  const s = await startApiServer({ users: [USER] });
  try {
    const phone = await login(s);
    const laptop = await login(s);
    const stream = await openStream(s, phone);
    const r = await postJson(s.base, '/api/me/password', { currentPassword: USER[1], newPassword: 'a brand new password' }, { token: laptop });
    assert.equal(r.status, 200);
    await stream.ended(1_000);
    assert.equal(await me(s, phone), 401);
    assert.equal(await me(s, laptop), 200);
  } finally {
    await s.close();
  }
});

test('a password set from another process (mgos user passwd) ends the streams of every session', async () => {
  const s = await startApiServer({ users: [USER] });
  try {
    const token = await login(s);
    const stream = await openStream(s, token);
    // What `mgos user passwd` does: its own connection to the site database, no message to the server.
    const db = openDatabase(s.dbPath);
    try {
      await new UserStore(db).setPassword(USER[0], 'set by the admin 1');
    } finally {
      db.close();
    }
    await stream.ended(SESSION_RECHECK_MS + 2_000);
    assert.equal(await me(s, token), 401);
  } finally {
    await s.close();
  }
});

test('a stream whose session is still valid stays open', async () => {
  const s = await startApiServer({ users: [USER] });
  try {
    const token = await login(s);
    const other = await login(s);
    const stream = await openStream(s, token);
    assert.equal((await postJson(s.base, '/api/logout', {}, { token: other })).status, 200, 'another session of the same user logs out');
    await assert.rejects(stream.ended(SESSION_RECHECK_MS + 500), /still open/);
    await stream.cancel();
  } finally {
    await s.close();
  }
});
