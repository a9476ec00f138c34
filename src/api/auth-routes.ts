import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from '#zod';
import { ROLES } from '../auth/roles.js';
import { LoginThrottle, LoginThrottled, type LoginAttempt } from '../auth/login-throttle.js';
import type { UserStore } from '../auth/user-store.js';
import { systemClock, type Clock } from '../util/clock.js';
import { HttpError, readSessionToken, SESSION_COOKIE, type RouteRegistry } from './route.js';

export interface AuthRouteOptions {
  /** Mark the session cookie Secure (the site is reached over HTTPS). */
  readonly secureCookie?: boolean;
  readonly clock?: Clock;
}

/**
 * Counts a password guess before it is checked (login and password change share the throttle).
 * `req.ip` is the client: the socket's address, or X-Forwarded-For's when the socket is a trusted proxy.
 */
function countGuess(throttle: LoginThrottle, username: string, req: FastifyRequest, reply: FastifyReply): LoginAttempt {
  try {
    return throttle.begin(username, req.ip);
  } catch (e) {
    if (!(e instanceof LoginThrottled)) throw e;
    void reply.header('retry-after', String(e.retryAfterS));
    throw new HttpError(429, e.message);
  }
}

export function registerAuthRoutes(routes: RouteRegistry, users: UserStore, options: AuthRouteOptions = {}): void {
  const secureCookie = options.secureCookie ?? false;
  const throttle = new LoginThrottle(options.clock ?? systemClock);
  routes.add({
    method: 'POST',
    url: '/api/login',
    summary: 'Log in; sets the session cookie and returns a bearer token for scripts',
    role: null,
    body: z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) }).strict(),
    handler: async ({ body, req, reply }) => {
      const attempt = countGuess(throttle, body.username, req, reply);
      const session = await users.login(body.username, body.password).catch((e: unknown) => {
        attempt.failed();
        throw e;
      });
      if (!session) {
        attempt.failed();
        throw new HttpError(401, 'wrong username or password');
      }
      attempt.succeeded();
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
    handler: async ({ body, user, req, reply }) => {
      if (!user) throw new HttpError(401, 'log in first');
      // A stolen session must not become a way to guess the password without limit.
      const attempt = countGuess(throttle, user.username, req, reply);
      const ok = await users.verify(user.username, body.currentPassword).catch((e: unknown) => {
        attempt.failed();
        throw e;
      });
      if (!ok) {
        attempt.failed();
        throw new HttpError(400, 'currentPassword: wrong password');
      }
      attempt.succeeded();
      try {
        await users.setPassword(user.username, body.newPassword, readSessionToken(req) ?? undefined);
      } catch (e) {
        throw new HttpError(400, (e as Error).message);
      }
      return { ok: true };
    },
  });
}
