import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from '#zod';
import { HttpError, type RouteRegistry } from '../api/route.js';
import { PesapalAdapter } from './adapters/pesapal.js';
import type { Headers, PaymentProcessor } from './processor.js';
import type { ProviderName } from './provider.js';
import { TokenBuckets, type RateLimit } from './rate-limit.js';

export const CALLBACK_PREFIX = '/api/payments/callbacks/';

/**
 * The largest body a callback may have. What providers send (docs/payments.md: MTN's status body,
 * Airtel's transaction and hash, Pesapal's three IPN fields) is a few hundred bytes; 8 KiB leaves
 * room for added fields while a stored row stays small. Enforced while the body streams in.
 */
export const CALLBACK_BODY_LIMIT_BYTES = 8 * 1024;

/**
 * Per source address. Providers send from a few addresses, one callback per payment event plus retries
 * at 1 s intervals at most (MTN callback page), so a sustained 1 per second with bursts of 60 is far above a
 * mini-grid's payment rate while one flooding address is held to it.
 */
export const DEFAULT_CALLBACK_RATE: RateLimit = { burst: 60, perSecond: 1, maxSources: 10_000 };

/**
 * Headers stored with a callback: what a provider's signing may need (Airtel v2 `x-signature`/`x-key`,
 * Airtel USSD push docs) and what helps trace a sender. A request may carry 16 KB of headers; the rest are not kept.
 */
const KEPT_HEADERS = ['content-type', 'content-length', 'user-agent', 'x-signature', 'x-key'] as const;
const KEPT_HEADER_CHARS = 256;

const PROVIDERS = ['mtn', 'airtel', 'pesapal'] as const satisfies ReadonlyArray<Exclude<ProviderName, 'cash'>>;
type CallbackProvider = (typeof PROVIDERS)[number];

export interface CallbackRouteDeps {
  readonly processor: PaymentProcessor;
  /** Fastify itself: the guards run before the body is read, which a route handler cannot do. */
  readonly app: FastifyInstance;
  readonly rate?: RateLimit;
  readonly bodyLimitBytes?: number;
}

class BodyTooLarge extends Error {}

/** Reads a body into memory only up to `limit` bytes; past that it stops reading and rejects. */
function readAtMost(stream: NodeJS.ReadableStream, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      stream.removeListener('error', onError);
    };
    const onData = (c: Buffer | string) => {
      const b = typeof c === 'string' ? Buffer.from(c) : c;
      size += b.length;
      if (size > limit) {
        done();
        // Not destroyed: the 413 must still be written on this socket; `connection: close` ends it after.
        stream.pause();
        reject(new BodyTooLarge(`${size}`));
        return;
      }
      chunks.push(b);
    };
    const onEnd = () => {
      done();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.resume();
  });
}

const providerIn = (url: string): CallbackProvider | undefined => {
  const name = url.slice(CALLBACK_PREFIX.length).split(/[/?]/)[0];
  return PROVIDERS.find((p) => p === name);
};

const keptHeaders = (h: FastifyRequest['headers']): Headers => {
  const out: Record<string, string> = {};
  for (const k of KEPT_HEADERS) {
    const v = h[k];
    if (v !== undefined) out[k] = (Array.isArray(v) ? v.join(', ') : v).slice(0, KEPT_HEADER_CHARS);
  }
  return out;
};

/**
 * The public provider callback endpoints and their guards. In order, before a byte of the body is read:
 * a per-address rate limit (429 with Retry-After), then 404 for a provider this site does not use; then
 * the body is read only up to the limit (413 past it), and kept byte for byte for signature checks.
 */
export function registerCallbackRoutes(routes: RouteRegistry, deps: CallbackRouteDeps): void {
  const { processor, app } = deps;
  const limit = deps.bodyLimitBytes ?? CALLBACK_BODY_LIMIT_BYTES;
  const buckets = new TokenBuckets(deps.rate ?? DEFAULT_CALLBACK_RATE, processor.clock);
  const rawBodies = new WeakMap<FastifyRequest, string>();
  const rawOf = (req: FastifyRequest): string => rawBodies.get(req) ?? '';

  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith(CALLBACK_PREFIX)) return;
    const admitted = buckets.take(req.ip);
    if (!admitted.ok) {
      const { burst, perSecond } = buckets.limit;
      return reply
        .code(429)
        .header('retry-after', String(admitted.retryAfterS))
        .header('connection', 'close')
        .send({
          error: `too many callbacks from ${req.ip}: one address may send ${burst} at once and ${perSecond} per second after that; retry after ${admitted.retryAfterS} s`,
        });
    }
    const name = providerIn(req.url);
    if (name && !processor.configured(name)) {
      const configured = PROVIDERS.filter((p) => processor.configured(p));
      return reply
        .code(404)
        .header('connection', 'close')
        .send({
          error: `payment provider ${name} is not configured on this site, so its callbacks are not accepted; configured: ${configured.join(', ') || 'none'}`,
        });
    }
    return;
  });

  app.addHook('preParsing', async (req, reply, payload) => {
    if (!req.url.startsWith(CALLBACK_PREFIX)) return payload;
    const tooLarge = (found: string) => {
      // The client may still be sending: the connection is closed after the answer instead of read to the end.
      void reply.header('connection', 'close');
      return new HttpError(
        413,
        `callback body is too large: found ${found}; at most ${limit} bytes are accepted (a provider's callback is a few hundred bytes)`,
      );
    };
    const declared = Number(req.headers['content-length']);
    if (declared > limit) throw tooLarge(`content-length ${declared}`);
    let raw: Buffer;
    try {
      raw = await readAtMost(payload, limit);
    } catch (err) {
      if (err instanceof BodyTooLarge) throw tooLarge(`more than ${limit} bytes (reading stopped at ${err.message})`);
      throw err;
    }
    rawBodies.set(req, raw.toString('utf8'));
    return Readable.from([raw]);
  });

  // Public, because providers call them; nothing moves until a status re-query agrees.
  for (const method of ['POST', 'PUT'] as const) {
    // MTN callback page: "Allow PUT & POST on your callback listener"; our reference is in the path.
    routes.add({
      method,
      url: '/api/payments/callbacks/mtn/:ref',
      summary: `MTN MoMo callback (${method})`,
      role: null,
      params: z.object({ ref: z.string().min(1).max(64) }),
      handler: async ({ params, req, reply }) => {
        await processor.receiveCallback('mtn', rawOf(req), keptHeaders(req.headers), { pathRef: params.ref });
        return reply.code(200).send();
      },
    });
  }

  routes.add({
    method: 'POST',
    url: '/api/payments/callbacks/airtel',
    summary: 'Airtel Money callback',
    role: null,
    handler: async ({ req, reply }) => {
      await processor.receiveCallback('airtel', rawOf(req), keptHeaders(req.headers));
      return reply.code(200).send({ status: 'received' });
    },
  });

  for (const method of ['GET', 'POST'] as const) {
    // Pesapal IPN: GET query or POST JSON; the exact acknowledgement stops Pesapal's retries.
    routes.add({
      method,
      url: '/api/payments/callbacks/pesapal',
      summary: `Pesapal IPN (${method})`,
      role: null,
      handler: async ({ req }) => {
        const query = Object.fromEntries(Object.entries((req.query ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
        const raw = method === 'GET' ? '' : rawOf(req);
        const src = method === 'GET' ? query : ((req.body ?? {}) as Record<string, unknown>);
        const text = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');
        const notice = { trackingId: text(src.OrderTrackingId), merchantReference: text(src.OrderMerchantReference) };
        try {
          // Once the raw notice is in the inbox it cannot be lost, so it is acknowledged even if it waits.
          await processor.receiveCallback('pesapal', raw, keptHeaders(req.headers), { query });
          return PesapalAdapter.ipnAck(notice, true);
        } catch {
          return PesapalAdapter.ipnAck(notice, false);
        }
      },
    });
  }
}
