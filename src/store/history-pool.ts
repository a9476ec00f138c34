import { Worker } from 'node:worker_threads';
import type { HistoryQueries, HistoryQuery } from './history-queries.js';
import type { QueryRequest, QueryResponse } from './history-worker.js';

/** Too many queries waiting: the caller answers 503 and the client retries later. */
export class QueryBusyError extends Error {}

interface Pending {
  resolve(body: string): void;
  reject(err: Error): void;
}

/**
 * History and CSV queries on a worker thread with its own read-only SQLite connection. Why a query
 * worker rather than moving the site runtime off the main thread: better-sqlite3 is synchronous, and
 * its big reads were what stalled polling (50 clients stretched a 2 s cycle to 18 s); the bus, the
 * recorder and the control cycle stay together on the main thread, where they share the process
 * image without copying, and only the work whose size a client chooses goes elsewhere.
 * The queue is bounded so a flood of requests costs memory in proportion to the bound, not the flood.
 */
export class HistoryPool {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  constructor(
    private readonly dbPath: string,
    private readonly maxQueued = 64,
  ) {}

  run<Q extends HistoryQuery>(query: Q, ...args: Parameters<HistoryQueries[Q]>): Promise<string> {
    if (this.closed) return Promise.reject(new Error('the history service is shutting down'));
    if (this.pending.size >= this.maxQueued)
      return Promise.reject(new QueryBusyError(`the history service is busy (${this.maxQueued} queries waiting); retry in a few seconds`));
    const id = this.nextId++;
    return new Promise<string>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const request: QueryRequest = { id, query, args };
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
    const w = new Worker(new URL('./history-worker.js', import.meta.url), { workerData: { dbPath: this.dbPath } });
    w.on('message', (m: QueryResponse) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) w.unref();
      if (m.ok) p.resolve(m.body);
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
