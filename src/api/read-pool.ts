import type { FastifyReply, FastifyRequest } from 'fastify';
import { HistoryPool, QueryBusyError, type EncodedBody } from '../store/history-pool.js';
import { negotiateEncoding, type Encoding } from '../util/content-encoding.js';
import type { ReadQueries } from './read-queries.js';
import { HttpError } from './route.js';

/** The one read worker of a running system: history, fleet, audit and invoice PDFs (read-queries.ts). */
export type ReadPool = HistoryPool<ReadQueries>;

export const openReadPool = (dbPath: string): ReadPool => new HistoryPool<ReadQueries>(dbPath, 64, new URL('./read-worker.js', import.meta.url));

/** The client's encoding, or identity for bodies that are compressed already (PDF). */
export const acceptedEncoding = (req: FastifyRequest): Encoding => negotiateEncoding(req.headers['accept-encoding']);

/** A full queue as 503 with Retry-After, which the client may retry; never a stalled cycle. */
export async function orBusy<T>(reply: FastifyReply | null, answer: Promise<T>): Promise<T> {
  try {
    return await answer;
  } catch (e) {
    if (e instanceof QueryBusyError) {
      if (reply) void reply.header('retry-after', '5');
      throw new HttpError(503, e.message);
    }
    throw e;
  }
}

/** Sends the worker's bytes as they are (serialised and compressed there): the request thread does no work on them. */
export async function sendEncoded(reply: FastifyReply, contentType: string, answer: Promise<EncodedBody>): Promise<FastifyReply> {
  const encoded = await orBusy(reply, answer);
  void reply.header('content-type', contentType).header('vary', 'accept-encoding');
  if (encoded.encoding !== 'identity') void reply.header('content-encoding', encoded.encoding);
  return reply.send(encoded.body);
}
