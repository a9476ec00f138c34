import { Worker } from 'node:worker_threads';
import type { Encoding } from '../util/content-encoding.js';
import type { HistoryQueries } from './history-queries.js';
import type { QueryRequest, QueryResponse } from './query-worker.js';

/** Too many queries waiting: the caller answers 503 and the client retries later. */
export class QueryBusyError extends Error {}

/** A query's answer as it goes on the wire: bytes in `encoding` (identity when small or not accepted). */
export interface EncodedBody {
  readonly body: Buffer;
  readonly encoding: Encoding;
}

interface Pending {
  resolve(body: EncodedBody): void;
  reject(err: Error): void;
}

/** Named read queries whose answer is a response body (text or bytes), as a query worker serves them. */
export type QueryMap = { readonly [name: string]: (...args: never[]) => string | Uint8Array | Promise<string | Uint8Array> };

/**
 * History and CSV queries on a worker thread with its own read-only SQLite connection, at a lower
 * CPU priority than the bus and the recorder (docs/architecture.md, "Requests never stall the bus").
 * The worker queries, serialises and compresses; the request thread only sends the bytes it gets.
 * The queue is bounded so a flood of requests costs memory in proportion to the bound, not the flood.
 * `workerUrl` serves a superset of the history queries when other rooms add theirs (api/read-worker.ts).
 */
export class HistoryPool<T extends QueryMap = HistoryQueries> {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  constructor(
    private readonly dbPath: string,
    private readonly maxQueued = 64,
    private readonly workerUrl: URL = new URL('./history-worker.js', import.meta.url),
  ) {}

  /** The answer as text (uncompressed). */
  async run<Q extends keyof T & string>(query: Q, ...args: Parameters<T[Q]>): Promise<string> {
    return (await this.runEncoded('identity', query, ...args)).body.toString('utf8');
  }

  /** The answer compressed in `encoding` when it is worth it, ready to send. */
  runEncoded<Q extends keyof T & string>(encoding: Encoding, query: Q, ...args: Parameters<T[Q]>): Promise<EncodedBody> {
    if (this.closed) return Promise.reject(new Error('the history service is shutting down'));
    if (this.pending.size >= this.maxQueued)
      return Promise.reject(new QueryBusyError(`the history service is busy (${this.maxQueued} queries waiting); retry in a few seconds`));
    const id = this.nextId++;
    return new Promise<EncodedBody>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const request: QueryRequest = { id, query, args, encoding };
      const w = this.ensureWorker();
      w.ref(); // a query in flight keeps the process alive; an idle worker does not
      w.postMessage(request);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.failAll(new Error('the history service stopped'));
    const w = this.worker;
    this.worker = null;
    await w?.terminate();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(this.workerUrl, { workerData: { dbPath: this.dbPath } });
    w.on('message', (m: QueryResponse) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) w.unref();
      if (m.ok) p.resolve({ body: Buffer.from(m.body), encoding: m.encoding });
      else p.reject(new Error(m.error));
    });
    // A crashed worker fails what it held; the next query starts a new one.
    w.on('error', (err) => this.failAll(err));
    w.on('exit', () => {
      if (this.worker === w) this.worker = null;
      this.failAll(new Error('the history worker stopped'));
    });
    this.worker = w;
    return w;
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
