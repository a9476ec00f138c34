import { z } from 'zod';
import { ROLES } from '../auth/roles.js';
import type { UserStore } from '../auth/user-store.js';
import { HttpError, readSessionToken, SESSION_COOKIE, type RouteRegistry } from './route.js';

/** Failed logins per client address; a few failures lock that address out for a while. */
class LoginThrottle {
  private readonly failures = new Map<string, { count: number; until: number }>();

  check(ip: string): void {
    const f = this.failures.get(ip);
    if (f && f.until > Date.now()) throw new HttpError(429, `too many failed logins; try again in ${Math.ceil((f.until - Date.now()) / 1000)} s`);
  }

  failed(ip: string): void {
    const f = this.failures.get(ip) ?? { count: 0, until: 0 };
    f.count++;
    if (f.count >= 5) f.until = Date.now() + 30_000 * 2 ** Math.min(f.count - 5, 6);
    this.failures.set(ip, f);
  }

  succeeded(ip: string): void {
    this.failures.delete(ip);
  }
}

export function registerAuthRoutes(routes: RouteRegistry, users: UserStore, secureCookie: boolean): void {
  const throttle = new LoginThrottle();
  routes.add({
    method: 'POST',
    url: '/api/login',
    summary: 'Log in; sets the session cookie and returns a bearer token for scripts',
    role: null,
    body: z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) }).strict(),
    handler: async ({ body, req, reply }) => {
      throttle.check(req.ip);
      const session = await users.login(body.username, body.password);
      if (!session) {
        throttle.failed(req.ip);
        throw new HttpError(401, 'wrong username or password');
      }
      throttle.succeeded(req.ip);
      const flags = `Path=/; HttpOnly; SameSite=Strict; Max-Age=${7 * 24 * 3600}${secureCookie ? '; Secure' : ''}`;
      void reply.header('set-cookie', `${SESSION_COOKIE}=${encodeURIComponent(session.token)}; ${flags}`);
      return { user: session.user, token: session.token };
    },
  });
  routes.add({
    method: 'POST',
    url: '/api/logout',
    summary: 'End this session',
    role: 'viewer',
    handler: ({ req, reply }) => {
      const token = readSessionToken(req);
      if (token) users.logout(token);
      void reply.header('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
      return { ok: true };
    },
  });
  routes.add({ method: 'GET', url: '/api/me', summary: 'Who is logged in', role: 'viewer', handler: ({ user }) => ({ user }) });
  routes.add({ method: 'GET', url: '/api/users', summary: 'List users and roles', role: 'admin', handler: () => ({ users: users.list() }) });
  routes.add({
    method: 'POST',
    url: '/api/users',
    summary: 'Create a user with a role',
    role: 'admin',
    body: z.object({ username: z.string(), password: z.string(), role: z.enum(ROLES) }).strict(),
    handler: async ({ body }) => {
      try {
        return { user: await users.create(body.username, body.password, body.role) };
      } catch (e) {
        throw new HttpError(400, (e as Error).message);
      }
    },
  });
  routes.add({
    method: 'POST',
    url: '/api/me/password',
    summary: 'Change your own password (ends your other sessions)',
    role: 'viewer',
    body: z.object({ currentPassword: z.string(), newPassword: z.string() }).strict(),
    handler: async ({ body, user }) => {
      if (!user || !(await users.verify(user.username, body.currentPassword))) throw new HttpError(400, 'currentPassword: wrong password');
      try {
        await users.setPassword(user.username, body.newPassword);
      } catch (e) {
        throw new HttpError(400, (e as Error).message);
      }
      return { ok: true };
    },
  });
}
