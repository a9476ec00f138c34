/** The read worker thread: answers ReadQueries from its own read-only connection at a low priority, ready to send. */
import { parentPort, workerData } from 'node:worker_threads';
import { openReadOnly } from '../store/database.js';
import { serveQueries } from '../store/query-worker.js';
import { readQueries } from './read-queries.js';

const data = workerData as { dbPath?: string } | null;
if (parentPort && data?.dbPath) serveQueries(readQueries(openReadOnly(data.dbPath)));
