/** The query worker thread: answers history queries from its own read-only connection, ready to send. */
import { parentPort, workerData } from 'node:worker_threads';
import { openReadOnly } from './database.js';
import { historyQueries, type HistoryQueries } from './history-queries.js';
import { serveQueries } from './query-worker.js';

export { QUERY_NICE, type QueryRequest, type QueryResponse } from './query-worker.js';

const data = workerData as { dbPath?: string } | null;
if (parentPort && data?.dbPath) serveQueries(historyQueries(openReadOnly(data.dbPath)));

export type { HistoryQueries };
