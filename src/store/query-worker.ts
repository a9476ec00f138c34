/** The loop of a query worker thread: answers named read queries, serialised and compressed, ready to send. */
import { parentPort } from 'node:worker_threads';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { Encoding } from '../util/content-encoding.js';
import { niceThisThread } from '../util/thread-priority.js';
import type { QueryMap } from './history-pool.js';

export interface QueryRequest {
  readonly id: number;
  readonly query: string;
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

function encode(answer: string | Uint8Array, encoding: Encoding): { body: Buffer; encoding: Encoding } {
  const raw = typeof answer === 'string' ? Buffer.from(answer, 'utf8') : Buffer.from(answer.buffer, answer.byteOffset, answer.byteLength);
  if (raw.length < COMPRESS_FROM_BYTES || encoding === 'identity') return { body: raw, encoding: 'identity' };
  if (encoding === 'gzip') return { body: gzipSync(raw), encoding };
  // Quality 4 as @fastify/compress uses: most of the gain for a fraction of the default's CPU.
  const params = { [constants.BROTLI_PARAM_QUALITY]: 4, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length };
  return { body: brotliCompressSync(raw, { params }), encoding };
}

/** Serves `queries` to the pool that started this thread (HistoryPool), at QUERY_NICE. */
export function serveQueries(queries: QueryMap): void {
  const port = parentPort;
  if (!port) return;
  niceThisThread(QUERY_NICE);
  const answer = async (m: QueryRequest): Promise<void> => {
    try {
      const fn = queries[m.query] as ((...a: unknown[]) => string | Uint8Array | Promise<string | Uint8Array>) | undefined;
      if (!fn) throw new Error(`no query ${m.query} in this worker`);
      // The request thread built `args` from the same typed signature (HistoryPool.run).
      const { body, encoding } = encode(await fn(...m.args), m.encoding);
      // Memory of its own (never Buffer's shared pool) moves to the request thread without a copy.
      const own =
        body.buffer instanceof ArrayBuffer && body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? body.buffer : new Uint8Array(body).buffer;
      const reply: QueryResponse = { id: m.id, ok: true, body: own, encoding };
      port.postMessage(reply, [own]);
    } catch (e) {
      const reply: QueryResponse = { id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) };
      port.postMessage(reply);
    }
  };
  port.on('message', (m: QueryRequest) => void answer(m));
}
