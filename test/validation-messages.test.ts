import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { z } from '#zod';
import { postJson, startApiServer, type ApiServer } from './helpers/api-server.js';

let s: ApiServer;
let admin = '';

before(async () => {
  s = await startApiServer({
    users: [['admin', 'the admin password', 'admin']],
    extraRoutes: [
      (routes) =>
        routes.add({
          method: 'GET',
          url: '/api/test/day',
          summary: 'a query with the kinds of field the API uses',
          role: 'viewer',
          query: z.object({ date: z.iso.date(), limit: z.coerce.number().int().min(1).max(100).optional() }).strict(),
          handler: ({ query }) => query,
        }),
    ],
  });
  admin = (await postJson(s.base, '/api/login', { username: 'admin', password: 'the admin password' })).json.token as string;
});

after(async () => {
  await s.close();
});

const get = async (url: string) => {
  const res = await fetch(`${s.base}${url}`, { headers: { authorization: `Bearer ${admin}` } });
  return { status: res.status, json: (await res.json()) as { error: string; issues?: { field: string; message: string }[] } };
};

test('a validation error is a sentence naming the field, what is allowed and what was found', async () => {
  const r = await get('/api/test/day?date=2026-13-45');
  assert.equal(r.status, 400);
  assert.equal(r.json.error, 'date: must be a calendar date YYYY-MM-DD; found "2026-13-45"');
  assert.deepEqual(r.json.issues, [{ field: 'date', message: 'must be a calendar date YYYY-MM-DD; found "2026-13-45"' }]);
});

test('every problem of a request is listed, each with its field', async () => {
  const r = await get('/api/test/day?limit=0&color=red');
  assert.equal(r.status, 400);
  assert.deepEqual(r.json.issues, [
    { field: 'date', message: 'is required' },
    { field: 'limit', message: 'must be at least 1; found "0"' },
    { field: 'query', message: 'unknown field "color"; allowed: date, limit' },
  ]);
  assert.equal(r.json.error, 'date: is required; limit: must be at least 1; found "0"; query: unknown field "color"; allowed: date, limit');
});

test('bodies: enums list what is allowed; types, lengths and missing fields are named', async () => {
  const role = await postJson(s.base, '/api/users', { username: 'op', password: 'long enough password', role: 'superuser' }, { token: admin });
  assert.equal(role.status, 400);
  assert.equal(role.json.error, 'role: must be one of viewer, operator, installer, admin; found "superuser"');
  const login = await postJson(s.base, '/api/login', { username: '', password: 42 });
  assert.deepEqual(login.json.issues, [
    { field: 'username', message: 'must not be empty; found ""' },
    { field: 'password', message: 'must be text; found 42' },
  ]);
  const notAnObject = await postJson(s.base, '/api/login', ['admin']);
  assert.equal(notAnObject.json.error, 'body: must be an object; found ["admin"]');
});
