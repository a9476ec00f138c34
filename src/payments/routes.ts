import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { HttpError, type RouteRegistry } from '../api/route.js';
import { roleAllows } from '../auth/roles.js';
import { maskPhone } from '../util/mask.js';
import { PesapalAdapter } from './adapters/pesapal.js';
import type { Intent } from './intent-store.js';
import { DuplicateReceipt, PaymentRefused, type PaymentProcessor } from './processor.js';
import { ProviderRejected, type EnergyFor, type ProviderName } from './provider.js';
import { reconcile } from './reconcile.js';

export interface PaymentRouteDeps {
  readonly processor: PaymentProcessor;
  /** The caller's tariff hook: the energy a credit buys, shown before paying (issue 4 §7). */
  readonly energyFor?: EnergyFor;
  /** Given, callback bodies are kept byte for byte for signature checks; otherwise they are re-serialised. */
  readonly app?: FastifyInstance;
  /**
   * Normalises an account at the edge: the canonical account payments are stored under, and every
   * spelling older payments may carry; undefined for an account that does not exist (refused with 404).
   * Without it, accounts are taken as sent.
   */
  readonly resolveAccount?: (account: string) => ResolvedAccount | undefined;
}

export interface ResolvedAccount {
  readonly canonical: string;
  /** Other spellings of the same account (the canonical one need not be repeated). */
  readonly aliases: readonly string[];
}

const CALLBACK_PREFIX = '/api/payments/callbacks/';
const rawBodies = new WeakMap<FastifyRequest, string>();

/** Keeps the exact bytes of provider callbacks before fastify parses them. */
export function keepRawCallbackBodies(app: FastifyInstance): void {
  app.addHook('preParsing', async (req, _reply, payload) => {
    if (!req.url.startsWith(CALLBACK_PREFIX)) return payload;
    const chunks: Buffer[] = [];
    for await (const c of payload) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
    const raw = Buffer.concat(chunks);
    rawBodies.set(req, raw.toString('utf8'));
    return Readable.from([raw]);
  });
}

const rawOf = (req: FastifyRequest): string => rawBodies.get(req) ?? (req.body === undefined || req.body === null ? '' : JSON.stringify(req.body));

const Provider = z.enum(['mtn', 'airtel', 'pesapal']);
const Amount = z.number().int().positive();
const Currency = z.string().regex(/^[A-Z]{3}$/);

const view = (i: Intent) => ({ ...i });

function asHttp(err: unknown): never {
  if (err instanceof DuplicateReceipt) throw new HttpError(409, err.message);
  if (err instanceof PaymentRefused) throw new HttpError(400, err.message);
  if (err instanceof ProviderRejected) throw new HttpError(422, `${err.code}: ${err.message}`);
  throw err;
}

export function registerPaymentRoutes(routes: RouteRegistry, deps: PaymentRouteDeps): void {
  const { processor } = deps;
  const resolve = (account: string): ResolvedAccount => {
    if (!deps.resolveAccount) return { canonical: account, aliases: [] };
    const r = deps.resolveAccount(account);
    if (!r) throw new HttpError(404, `account ${JSON.stringify(account)} is not a customer of this site`);
    return r;
  };
  if (deps.app) keepRawCallbackBodies(deps.app);

  routes.add({
    method: 'POST',
    url: '/api/payments/quote',
    summary: 'What a payment costs: amount, fee, who bears it, the credit and the energy it buys',
    role: 'viewer',
    body: z.object({ provider: z.enum(['mtn', 'airtel', 'pesapal', 'cash']), amountMinor: Amount, currency: Currency, account: z.string().min(1).optional() }),
    handler: ({ body }) => {
      if (body.account !== undefined) resolve(body.account);
      let q;
      try {
        q = processor.quote(body.provider, body.amountMinor, body.currency);
      } catch (err) {
        return asHttp(err);
      }
      return { ...q, currency: body.currency, energyKwh: deps.energyFor ? deps.energyFor(q.creditMinor, body.account) : null };
    },
  });

  routes.add({
    method: 'POST',
    url: '/api/payments',
    summary: 'Start a mobile-money payment for an account',
    role: 'operator',
    body: z.object({ account: z.string().min(1), provider: Provider, msisdn: z.string().min(7), amountMinor: Amount, currency: Currency, description: z.string().max(160).default('Electricity credit'), reference: z.string().min(8).max(50).optional() }),
    handler: async ({ body }) => {
      try {
        const a = resolve(body.account);
        // A retry of a payment stored before accounts were normalised keeps its spelling (not a reused reference).
        const prior = body.reference ? processor.store.get(body.reference) : null;
        const account = prior && [a.canonical, ...a.aliases].includes(prior.account) ? prior.account : a.canonical;
        const r = await processor.start({ ...body, account });
        return { payment: view(r.intent), redirectUrl: r.redirectUrl ?? null };
      } catch (err) {
        return asHttp(err);
      }
    },
  });

  routes.add({
    method: 'POST',
    url: '/api/payments/cash',
    summary: 'An agent records a cash payment with its receipt number',
    role: 'operator',
    body: z.object({ account: z.string().min(1), amountMinor: Amount, currency: Currency, receipt: z.string().min(3).max(40) }),
    handler: async ({ body, user }) => {
      try {
        const account = resolve(body.account).canonical;
        return { payment: view(await processor.recordCash({ ...body, account, agent: user?.username ?? 'unknown' })) };
      } catch (err) {
        return asHttp(err);
      }
    },
  });

  routes.add({
    method: 'GET',
    url: '/api/payments',
    summary: 'Payments of one account, newest first',
    role: 'viewer',
    query: z.object({ account: z.string().min(1) }),
    handler: ({ query, user }) => {
      const a = resolve(query.account);
      // Mobile-money numbers are personal data: below operator they are masked.
      const shown = (i: Intent) => (user && roleAllows(user.role, 'operator') ? view(i) : { ...view(i), msisdn: maskPhone(i.msisdn) });
      return { account: a.canonical, payments: processor.store.forAccounts([a.canonical, ...a.aliases]).map(shown) };
    },
  });

  routes.add({
    method: 'GET',
    url: '/api/payments/reconciliation',
    summary: 'What each provider says against what we hold, for a period',
    role: 'admin',
    query: z.object({ from: z.coerce.number().int().nonnegative(), to: z.coerce.number().int().positive() }),
    handler: async ({ query }) => reconcile(processor, query.from, query.to),
  });

  // Provider callbacks: public, because providers call them; nothing moves until a status re-query agrees.
  for (const method of ['POST', 'PUT'] as const) {
    // payments.md §1.6: "Allow PUT & POST on your callback listener"; our reference is in the path.
    routes.add({
      method,
      url: '/api/payments/callbacks/mtn/:ref',
      summary: `MTN MoMo callback (${method})`,
      role: null,
      params: z.object({ ref: z.string().min(1).max(64) }),
      handler: async ({ params, req, reply }) => {
        await processor.receiveCallback('mtn', rawOf(req), req.headers, { pathRef: params.ref });
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
      await processor.receiveCallback('airtel', rawOf(req), req.headers);
      return reply.code(200).send({ status: 'received' });
    },
  });

  for (const method of ['GET', 'POST'] as const) {
    // payments.md §3 IPN: GET query or POST JSON; the exact acknowledgement stops Pesapal's retries.
    routes.add({
      method,
      url: '/api/payments/callbacks/pesapal',
      summary: `Pesapal IPN (${method})`,
      role: null,
      handler: async ({ req }) => {
        const query = Object.fromEntries(Object.entries((req.query ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
        const raw = method === 'GET' ? '' : rawOf(req);
        const src = method === 'GET' ? query : ((req.body ?? {}) as Record<string, unknown>);
        const notice = { trackingId: String(src.OrderTrackingId ?? ''), merchantReference: String(src.OrderMerchantReference ?? '') };
        try {
          // Once the raw notice is in the inbox it cannot be lost, so it is acknowledged even if it waits.
          await processor.receiveCallback('pesapal', raw, req.headers, { query });
          return PesapalAdapter.ipnAck(notice, true);
        } catch {
          return PesapalAdapter.ipnAck(notice, false);
        }
      },
    });
  }
}

export type { ProviderName };
