import fastifyCompress from '@fastify/compress';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance } from 'fastify';
import type { UserStore } from '../auth/user-store.js';
import type { SiteRuntime } from '../site/site-runtime.js';
import { fromRoot } from '../util/paths.js';
import { registerAuthRoutes } from './auth-routes.js';
import { acceptCsvBodies } from '../commissioning/inventory/routes.js';
import { buildOpenApi } from './openapi.js';
import { guardBrowserRequests } from './request-guard.js';
import { HttpError, RouteRegistry, type StreamSource } from './route.js';
import { registerSiteRoutes } from '../site/routes.js';
import { registerStream } from './stream-route.js';
import { fastifyTimeouts, HTTP_LIMITS } from './http-limits.js';

export interface ApiDeps {
  readonly site: SiteRuntime;
  readonly users: UserStore;
  readonly version: string;
  /** Set when served over HTTPS (behind a TLS proxy): the session cookie gets the Secure flag. */
  readonly secureCookie?: boolean;
  /**
   * Reverse proxies (addresses or CIDRs) whose X-Forwarded-For / -Host / -Proto are believed; none by
   * default. Without it every client behind a proxy looks like the proxy to the login throttle.
   */
  readonly trustProxy?: readonly string[];
  /** More routes (history, commissioning, ...) registered by their own modules; `app` for hooks (raw callback bodies). */
  readonly extraRoutes?: ReadonlyArray<(routes: RouteRegistry, app: FastifyInstance) => void>;
  /** More live event sources for /api/stream. */
  readonly streamSources?: readonly StreamSource[];
}

/** The system clock's reading when a response was sent, in ms since the epoch. */
export const SERVER_TIME_HEADER = 'x-mgos-time';

const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export async function createApiServer(deps: ApiDeps): Promise<FastifyInstance> {
  const trustProxy = deps.trustProxy && deps.trustProxy.length > 0 ? [...deps.trustProxy] : false;
  // Slow and idle clients are bounded (http-limits.ts): held sockets must not use up the descriptors.
  const app = Fastify({ logger: false, bodyLimit: 1_000_000, trustProxy, ...fastifyTimeouts() });
  app.server.maxConnections = HTTP_LIMITS.maxConnections;
  // Phones on weak links: JSON history and the UI's scripts shrink 4-8x. The SSE stream is hijacked
  // and written raw, so it is never buffered by compression.
  await app.register(fastifyCompress, { global: true, threshold: 1024, encodings: ['br', 'gzip'] });
  app.addHook('onSend', async (_req, reply) => {
    void reply.header('content-security-policy', CSP);
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('referrer-policy', 'no-referrer');
    // The UI's "today" and "last 7 days" follow the system clock, not the browser's (one clock).
    void reply.header(SERVER_TIME_HEADER, String(deps.site.now()));
  });
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    if (err instanceof HttpError) return reply.code(err.status).send({ error: err.message, ...(err.issues ? { issues: err.issues } : {}) });
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    return reply.code(status).send({ error: status === 500 ? 'internal error' : err.message });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: `no route ${req.method} ${req.url.split('?')[0]}` }));

  guardBrowserRequests(app);
  acceptCsvBodies(app);
  const routes = new RouteRegistry(app, deps.users);
  registerAuthRoutes(routes, deps.users, { secureCookie: deps.secureCookie ?? false, clock: deps.site.now });
  registerSiteRoutes(routes, deps.site, deps.version);
  for (const register of deps.extraRoutes ?? []) register(routes, app);
  registerStream(app, deps.site, deps.users, deps.streamSources);
  const openapi = buildOpenApi(routes.documented, deps.version);
  app.get('/api/openapi.json', () => openapi);

  // The UI as web/build.mjs emits it: assets under content-hashed names never change, so a browser
  // keeps them a year without asking again; index.html names the current ones and is always revalidated.
  await app.register(fastifyStatic, { root: fromRoot('dist', 'web', 'assets'), prefix: '/assets/', maxAge: '365d', immutable: true });
  await app.register(fastifyStatic, {
    root: fromRoot('dist', 'web'),
    prefix: '/',
    index: ['index.html'],
    allowedPath: (path) => !path.startsWith('/assets/'),
    cacheControl: false,
    setHeaders: (reply) => void reply.header('cache-control', 'no-cache'),
    decorateReply: false,
  });
  return app;
}
