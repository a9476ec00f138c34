import type { FastifyInstance } from 'fastify';
import { z } from '#zod';
import { HttpError, type RouteRegistry } from '../api/route.js';
import { roleAllows } from '../auth/roles.js';
import { maskPhone } from '../util/mask.js';
import { registerCallbackRoutes } from './callback-routes.js';
import type { Intent } from './intent-store.js';
import { DuplicateReceipt, PaymentRefused, type PaymentProcessor } from './processor.js';
import { ProviderRejected, type EnergyFor, type ProviderName } from './provider.js';
import type { RateLimit } from './rate-limit.js';
import { reconcile } from './reconcile.js';

export interface PaymentRouteDeps {
  readonly processor: PaymentProcessor;
  /** The caller's tariff hook: the energy a credit buys, shown before paying (issue 4 §7). */
  readonly energyFor?: EnergyFor;
  /** For the public callbacks' guards, which run before a body is read (rate limit, 404, body limit); bodies are kept byte for byte. */
  readonly app: FastifyInstance;
  /** Callbacks accepted per source address (default `DEFAULT_CALLBACK_RATE` in callback-routes.ts). */
  readonly callbackRate?: RateLimit;
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
    body: z.object({
      account: z.string().min(1),
      provider: Provider,
      msisdn: z.string().min(7),
      amountMinor: Amount,
      currency: Currency,
      description: z.string().max(160).default('Electricity credit'),
      reference: z.string().min(8).max(50).optional(),
    }),
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

  // Provider callbacks: public, because providers call them; guarded and bounded in their own file.
  registerCallbackRoutes(routes, deps.callbackRate ? { processor, app: deps.app, rate: deps.callbackRate } : { processor, app: deps.app });
}

export type { ProviderName };
