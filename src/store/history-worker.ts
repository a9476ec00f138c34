/** The query worker thread: answers history queries from its own read-only connection. */
import { parentPort, workerData } from 'node:worker_threads';
import { openReadOnly } from './database.js';
import { historyQueries, type HistoryQueries, type HistoryQuery } from './history-queries.js';

export interface QueryRequest {
  readonly id: number;
  readonly query: HistoryQuery;
  readonly args: readonly unknown[];
}
export type QueryResponse =
  { readonly id: number; readonly ok: true; readonly body: string } | { readonly id: number; readonly ok: false; readonly error: string };

const port = parentPort;
if (port) {
  const queries = historyQueries(openReadOnly((workerData as { dbPath: string }).dbPath));
  port.on('message', (m: QueryRequest) => {
    let reply: QueryResponse;
    try {
      // The request thread built `args` from the same typed signature (HistoryPool.run).
      const fn = queries[m.query] as (...a: unknown[]) => string;
      reply = { id: m.id, ok: true, body: fn(...m.args) };
    } catch (e) {
      reply = { id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) };
    }
    port.postMessage(reply);
  });
}

export type { HistoryQueries };
