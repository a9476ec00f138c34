import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createApiServer, type ApiDeps } from '../../src/api/server.js';
import { UserStore } from '../../src/auth/user-store.js';
import { siteConfigSchema } from '../../src/config/site-config.js';
import { loadProfiles } from '../../src/drivers/profiles.js';
import { SiteRuntime } from '../../src/site/site-runtime.js';
import { openDatabase, type StoreDb } from '../../src/store/database.js';
import { CollectingSink } from './site.js';

/** A UserStore that counts password checks (login calls verify), so a test can see how many guesses were hashed. */
export class CountingUserStore extends UserStore {
  checks = 0;
  override async verify(username: string, password: string): ReturnType<UserStore['verify']> {
    this.checks++;
    return super.verify(username, password);
  }
}

export interface ApiServer {
  readonly base: string;
  readonly port: number;
  readonly users: CountingUserStore;
  readonly db: StoreDb;
  readonly dbPath: string;
  readonly http: FastifyInstance;
  close(): Promise<void>;
}

/**
 * The real API server (auth, site routes, stream) over real HTTP on 127.0.0.1, with a site of no
 * meters and a fresh database; `users` are created before it listens.
 */
export async function startApiServer(
  opts: { users?: ReadonlyArray<readonly [string, string, 'viewer' | 'operator' | 'installer' | 'admin']> } & Partial<
    Pick<ApiDeps, 'trustProxy' | 'secureCookie' | 'extraRoutes'>
  > = {},
): Promise<ApiServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-api-server-'));
  const dbPath = path.join(dir, 'mgos.db');
  const db = openDatabase(dbPath);
  const users = new CountingUserStore(db);
  for (const [name, password, role] of opts.users ?? []) await users.create(name, password, role);
  const site = new SiteRuntime(siteConfigSchema.parse({ site: { id: 'test', name: 'Test site' } }), loadProfiles(), new CollectingSink());
  const http = await createApiServer({
    site,
    users,
    version: 'test',
    trustProxy: opts.trustProxy,
    secureCookie: opts.secureCookie,
    extraRoutes: opts.extraRoutes,
  });
  await http.listen({ host: '127.0.0.1', port: 0 });
  const port = (http.server.address() as AddressInfo).port;
  users.checks = 0;
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    users,
    db,
    dbPath,
    http,
    close: async () => {
      http.server.closeAllConnections(); // an SSE stream left open by a failing test must not hold the close
      await http.close();
      await site.stop();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** POST JSON, optionally with a bearer token and extra headers (X-Forwarded-For, Origin, cookie, ...). */
export async function postJson(
  base: string,
  url: string,
  body: unknown,
  opts: { token?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${base}${url}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...opts.headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: res.headers };
}
