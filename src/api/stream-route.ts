import type { FastifyInstance } from 'fastify';
import type { UserStore } from '../auth/user-store.js';
import type { SiteRuntime } from '../site/site-runtime.js';
import { readSessionToken } from './route.js';
import { overview } from './site-routes.js';

/**
 * Server-Sent Events: after every poll cycle, the changed meters' values and the overview.
 * SSE rather than WebSocket: one-way is all the UI needs, and browsers reconnect by themselves.
 */
/** Another source of live events for the stream (scan progress, alarms, ...). */
export interface StreamSource {
  readonly event: string;
  subscribe(send: (data: unknown) => void): () => void;
}

export function registerStream(app: FastifyInstance, site: SiteRuntime, users: UserStore, sources: readonly StreamSource[] = []): void {
  app.get('/api/stream', (req, reply) => {
    const token = readSessionToken(req);
    if (!token || !users.userForToken(token)) {
      void reply.code(401).send({ error: 'log in first' });
      return;
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const send = (event: string, data: unknown): void => {
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    send('overview', overview(site));
    const unsubscribe = site.live.subscribe(({ changed }) => {
      const meters = changed.map((key) => ({ key, quality: site.image.quality(key), values: site.image.component(key) }));
      send('values', { ts: site.now(), meters });
      send('overview', overview(site));
    });
    const unsubscribeSources = sources.map((s) => s.subscribe((data) => send(s.event, data)));
    // Comments keep proxies and phones from closing an idle connection.
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 25_000);
    req.raw.on('close', () => {
      clearInterval(keepAlive);
      unsubscribe();
      for (const off of unsubscribeSources) off();
    });
  });
}
