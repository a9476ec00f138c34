/** The query worker thread: answers history queries from its own read-only connection, ready to send. */
import { parentPort, workerData } from 'node:worker_threads';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { Encoding } from '../util/content-encoding.js';
import { niceThisThread } from '../util/thread-priority.js';
import { openReadOnly } from './database.js';
import { historyQueries, type HistoryQueries, type HistoryQuery } from './history-queries.js';

export interface QueryRequest {
  readonly id: number;
  readonly query: HistoryQuery;
  readonly args: readonly unknown[];
  /** How the client accepts the body; the worker compresses it so the request thread does not. */
  readonly encoding: Encoding;
}
export type QueryResponse =
  | { readonly id: number; readonly ok: true; readonly body: ArrayBuffer; readonly encoding: Encoding }
  | { readonly id: number; readonly ok: false; readonly error: string };

/** Below this a body goes uncompressed (the server's own threshold). */
const COMPRESS_FROM_BYTES = 1024;
/** Queries take the CPU the bus and recorder leave: 10 nice steps below them (about a tenth of a contended core). */
export const QUERY_NICE = 10;

function encode(text: string, encoding: Encoding): { body: Buffer; encoding: Encoding } {
  const raw = Buffer.from(text, 'utf8');
  if (raw.length < COMPRESS_FROM_BYTES || encoding === 'identity') return { body: raw, encoding: 'identity' };
  if (encoding === 'gzip') return { body: gzipSync(raw), encoding };
  // Quality 4 as @fastify/compress uses: most of the gain for a fraction of the default's CPU.
  const params = { [constants.BROTLI_PARAM_QUALITY]: 4, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length };
  return { body: brotliCompressSync(raw, { params }), encoding };
}

const port = parentPort;
if (port) {
  niceThisThread(QUERY_NICE);
  const queries = historyQueries(openReadOnly((workerData as { dbPath: string }).dbPath));
  port.on('message', (m: QueryRequest) => {
    try {
      // The request thread built `args` from the same typed signature (HistoryPool.run).
      const fn = queries[m.query] as (...a: unknown[]) => string;
      const { body, encoding } = encode(fn(...m.args), m.encoding);
      // Memory of its own (never Buffer's shared pool) moves to the request thread without a copy.
      const own =
        body.buffer instanceof ArrayBuffer && body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? body.buffer : new Uint8Array(body).buffer;
      const reply: QueryResponse = { id: m.id, ok: true, body: own, encoding };
      port.postMessage(reply, [own]);
    } catch (e) {
      const reply: QueryResponse = { id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) };
      port.postMessage(reply);
    }
  });
}

export type { HistoryQueries };
