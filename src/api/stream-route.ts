import type { FastifyInstance } from 'fastify';
import type { UserStore } from '../auth/user-store.js';
import type { CycleEvent } from '../site/live-feed.js';
import type { SiteRuntime } from '../site/site-runtime.js';
import { readSessionToken, type StreamSource } from './route.js';
import { overview } from '../site/routes.js';
import { STREAM_KEEPALIVE_MS } from './http-limits.js';

/**
 * Server-Sent Events: after every poll cycle, the changed meters' values and the overview.
 * SSE rather than WebSocket: one-way is all the UI needs, and browsers reconnect by themselves.
 */
/** How often an open stream re-checks its session for changes no event announces (another process, expiry). */
export const SESSION_RECHECK_MS = 2_000;

/** A cycle's events, serialised once for every open stream rather than once per stream. */
function cycleFrames(site: SiteRuntime): (e: CycleEvent) => string {
  const frames = new WeakMap<CycleEvent, string>();
  return (e) => {
    let text = frames.get(e);
    if (text === undefined) {
      const meters = e.changed.map((key) => ({ key, quality: site.image.quality(key), values: site.image.component(key) }));
      text = frame('values', { ts: site.now(), meters }) + frame('overview', overview(site));
      frames.set(e, text);
    }
    return text;
  };
}

const frame = (event: string, data: unknown): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

export function registerStream(app: FastifyInstance, site: SiteRuntime, users: UserStore, sources: readonly StreamSource[] = []): void {
  const framesOf = cycleFrames(site);
  app.get('/api/stream', (req, reply) => {
    const token = readSessionToken(req);
    const user = token ? users.userForToken(token) : null;
    if (!token || !user) {
      void reply.code(401).send({ error: 'log in first' });
      return;
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    let open = true;
    // A stream is as good as its session: after a logout or a password change it ends, and nothing
    // more is written. The browser's reconnect then gets 401 like any other call.
    const sessionEnded = (): boolean => {
      if (!open) return true;
      if (res.destroyed) {
        close();
        return true;
      }
      if (users.userForToken(token)) return false;
      res.write(`event: session-ended\ndata: ${JSON.stringify({ reason: 'the session was ended (logout or password change); log in again' })}\n\n`);
      res.end();
      close();
      return true;
    };
    const send = (event: string, data: unknown): void => {
      if (!sessionEnded()) res.write(frame(event, data));
    };
    send('overview', overview(site));
    const unsubscribe = site.live.subscribe((e) => {
      if (!sessionEnded()) res.write(framesOf(e));
    });
    const unsubscribeSources = sources.map((s) => s.subscribe((data) => send(s.event, data)));
    const offEnded = users.onSessionsEnded((username) => {
      if (username === user.username) sessionEnded();
    });
    const recheck = setInterval(sessionEnded, SESSION_RECHECK_MS);
    // Comments keep proxies, phones and our own socket idle timeout (http-limits.ts) from closing a quiet stream.
    const keepAlive = setInterval(() => {
      if (!sessionEnded()) res.write(': keep-alive\n\n');
    }, STREAM_KEEPALIVE_MS);
    function close(): void {
      if (!open) return;
      open = false;
      clearInterval(keepAlive);
      clearInterval(recheck);
      offEnded();
      unsubscribe();
      for (const off of unsubscribeSources) off();
    }
    // The response's close is the connection's end (a client that cancels, a server closing its
    // connections); the request's alone was missed in CI once, and the stream's timers then ran on
    // into a closed database.
    req.raw.on('close', close);
    res.on('close', close);
  });
}
