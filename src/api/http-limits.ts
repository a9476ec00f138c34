import type { ServerOptions } from 'node:http';

/**
 * How long the API server holds a slow or idle client (docs/architecture.md#decisions, "Slow and idle clients are bounded"). It runs on a
 * Raspberry Pi with few file descriptors, in the process that also polls the Modbus bus and writes
 * SQLite: a held socket is a descriptor, so none may be held for long by a client that sends nothing.
 * Fastify's defaults held a silent or slow-body connection for ever and a slowloris for ~90 s.
 */
export const HTTP_LIMITS = {
  /**
   * A socket with no bytes in or out for this long is closed. It is the only bound on a peer silent
   * after connecting (Node starts headersTimeout at the first byte). The live stream (/api/stream)
   * writes a keep-alive comment every STREAM_KEEPALIVE_MS, well inside it, so it is never cut.
   */
  socketIdleMs: 15_000,
  /** The request line and headers must be in within this (a slowloris). */
  headersMs: 10_000,
  /** The whole request, body included (a slow body); the largest body is 1 MB, seconds on a phone. */
  requestMs: 30_000,
  /** Node checks the two above only this often (its default 30 s let a slowloris last 60-90 s). */
  checkEveryMs: 1_000,
  /** An idle keep-alive connection between requests (Fastify's default 72 s held a descriptor for it). */
  keepAliveMs: 5_000,
  /**
   * Connections at once; a further one is closed as soon as it is accepted. Generous for a few
   * operators' browsers (6 connections and a stream each) and the payment callbacks, and well under
   * a Pi's 1024 descriptors, of which the bus, SQLite and the uplink need some.
   */
  maxConnections: 256,
} as const;

/** Keep-alive comment on the live stream: a third of the idle timeout, so a quiet stream is not cut. */
export const STREAM_KEEPALIVE_MS = Math.floor(HTTP_LIMITS.socketIdleMs / 3);

/** The options Fastify takes for these limits (maxConnections is set on the server once created). */
export function fastifyTimeouts(): { connectionTimeout: number; keepAliveTimeout: number; requestTimeout: number; http: ServerOptions } {
  return {
    connectionTimeout: HTTP_LIMITS.socketIdleMs,
    keepAliveTimeout: HTTP_LIMITS.keepAliveMs,
    // Fastify sets the server's requestTimeout from its own option (default 0, none), after creating it.
    requestTimeout: HTTP_LIMITS.requestMs,
    http: { headersTimeout: HTTP_LIMITS.headersMs, connectionsCheckingInterval: HTTP_LIMITS.checkEveryMs },
  };
}
