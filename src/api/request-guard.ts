import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SESSION_COOKIE } from './route.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Called by outside parties without a session (payment callbacks): not checked here. */
    public?: boolean;
    /** Content types a browser may send; application/json when not given. */
    consumes?: readonly string[];
  }
}

/**
 * Cross-site request forgery: the browser attaches the session cookie to requests that another page
 * makes, even from another port of the same host (same-site, so SameSite=Strict does not help).
 * A state-changing request that a browser could have made for someone else must therefore show it
 * comes from this site's own pages (Sec-Fetch-Site, or else Origin) and carry a content type that a
 * plain HTML form cannot send (JSON, or what the route declares).
 *
 * Not checked: bearer-token requests (a foreign page cannot set Authorization without a CORS
 * preflight, which this server never grants), routes marked `public` (provider callbacks), and
 * requests with neither a cookie nor a browser's Origin/Sec-Fetch-Site (scripts, providers).
 */
export function guardBrowserRequests(app: FastifyInstance): void {
  app.addHook('onRequest', async (req, reply) => {
    if (!STATE_CHANGING.has(req.method)) return;
    const config = req.routeOptions.config as { public?: boolean; consumes?: readonly string[] } | undefined;
    if (config?.public) return;
    if (req.headers.authorization?.startsWith('Bearer ')) return;
    const fromBrowser = hasSessionCookie(req) || req.headers.origin !== undefined || req.headers['sec-fetch-site'] !== undefined;
    if (!fromBrowser) return;
    const foreign = foreignOrigin(req);
    if (foreign) return reply.code(403).send({ error: foreign });
    const wrongType = unacceptedType(req, config?.consumes ?? ['application/json']);
    if (wrongType) return reply.code(415).send({ error: wrongType });
  });
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function hasSessionCookie(req: FastifyRequest): boolean {
  return (req.headers.cookie ?? '').split(';').some((part) => part.trim().startsWith(`${SESSION_COOKIE}=`));
}

/** Why the request does not come from this site's own pages, or null when it does. */
function foreignOrigin(req: FastifyRequest): string | null {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined) {
    return site === 'same-origin' || site === 'none' ? null : `refused: a ${site} request may not change anything here; use this site's own pages`;
  }
  const origin = req.headers.origin;
  if (origin !== undefined) {
    return sameHost(origin, req.host) ? null : `refused: a page from ${origin} may not change anything here; use this site's own pages`;
  }
  return 'refused: a request with the session cookie must say where it comes from (Origin); use the web UI, or a bearer token from a script';
}

/**
 * Host and port only: behind a TLS proxy the browser's origin is https while this server speaks
 * http; `req.host` is the Host header, or X-Forwarded-Host when the socket is a trusted proxy.
 */
function sameHost(origin: string, host: string): boolean {
  try {
    return new URL(origin).host.toLowerCase() === host.toLowerCase();
  } catch {
    return false; // "null" (sandboxed frames, some redirects) and garbage
  }
}

function unacceptedType(req: FastifyRequest, accepted: readonly string[]): string | null {
  const [mediaType = ''] = (req.headers['content-type'] ?? '').split(';');
  const type = mediaType.trim().toLowerCase();
  const hasBody = type !== '' || Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (!hasBody || accepted.includes(type)) return null;
  return `content-type ${type ? JSON.stringify(type) : '(none)'} is not accepted here; send ${accepted.join(' or ')}`;
}
