import { createHmac, randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { deliver, sandboxUrl, type Delivery, type DeliveryOptions } from './deliver.js';

/**
 * A fake Airtel Money Collection (docs/payments.md#airtel-money-collection, #sandboxes): DP00800001006 on initiation, TIP -> TS/TF/TA,
 * ESB000041 on a duplicate id, callbacks with or without `hash`. Airtel has no magic numbers, so the test decides.
 */
export interface AirtelSandboxOptions {
  readonly clientId: string;
  readonly clientSecret: string;
  /** The portal-configured callback URL (Airtel: set once on the portal, not per request). */
  callbackUrl: string;
  /** "Callback with Authentication" (Airtel callback docs); our assumption of the hash: base64 HMAC-SHA256 of the transaction JSON. */
  readonly callbackKey?: string;
  readonly callbacks?: 'auto' | 'manual' | 'drop';
}

export interface AirtelTx {
  id: string;
  amount: number;
  currency: string;
  msisdn: string;
  status: 'TIP' | 'TS' | 'TF' | 'TA';
  airtelMoneyId?: string;
  message: string;
}

const env = (code: string, result: string, response: string, success: boolean, message = success ? 'SUCCESS' : 'FAILED') => ({
  code,
  message,
  result_code: result,
  response_code: response,
  success,
});

export class AirtelSandbox {
  readonly txs = new Map<string, AirtelTx>();
  readonly deliveries: Delivery[] = [];
  private readonly tokens = new Set<string>();
  private app: FastifyInstance | null = null;
  private inflight: Array<Promise<unknown>> = [];
  url = '';

  constructor(readonly opts: AirtelSandboxOptions) {}

  async start(): Promise<string> {
    const app = Fastify({ logger: false });
    this.routes(app);
    await app.listen({ host: '127.0.0.1', port: 0 });
    this.app = app;
    this.url = sandboxUrl(app.server.address());
    return this.url;
  }

  async settle(): Promise<void> {
    await Promise.allSettled(this.inflight);
  }

  async stop(): Promise<void> {
    await this.settle();
    await this.app?.close();
  }

  private authorised(req: FastifyRequest, reply: FastifyReply): boolean {
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('Bearer ') || !this.tokens.has(auth.slice(7))) {
      void reply.code(401).send({ status: env('401', 'ESB000001', 'DP00800001000', false, 'unauthorised') });
      return false;
    }
    if (req.headers['x-country'] !== 'UG' || req.headers['x-currency'] !== 'UGX') {
      void reply.code(400).send({ status: env('400', 'ESB000034', 'DP00800001000', false, 'invalid country or currency') });
      return false;
    }
    return true;
  }

  private routes(app: FastifyInstance): void {
    // Airtel token: JSON client_credentials, or the Basic-auth variant
    app.post('/auth/oauth2/token', async (req, reply) => {
      const b = (req.body ?? {}) as { client_id?: string; client_secret?: string; grant_type?: string };
      const basic = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString();
      const ok =
        (b.client_id === this.opts.clientId && b.client_secret === this.opts.clientSecret) || basic === `${this.opts.clientId}:${this.opts.clientSecret}`;
      if (!ok || b.grant_type !== 'client_credentials') return reply.code(401).send({ error: 'invalid_client' });
      const token = randomBytes(24).toString('base64url');
      this.tokens.add(token);
      return { access_token: token, expires_in: '180', token_type: 'bearer' };
    });
    // Airtel Collection USSD push
    app.post('/merchant/v1/payments/', async (req, reply) => {
      if (!this.authorised(req, reply)) return reply;
      const b = (req.body ?? {}) as {
        reference?: string;
        subscriber?: { msisdn?: string };
        transaction?: { amount?: unknown; currency?: string; id?: string };
      };
      const id = b.transaction?.id;
      const msisdn = b.subscriber?.msisdn ?? '';
      if (!id || typeof b.transaction?.amount !== 'number' || !(b.transaction.amount > 0))
        return reply.code(400).send({ status: env('400', 'ESB000008', 'DP00800001004', false, 'field validation') });
      if (!/^\d{9}$/.test(msisdn)) return reply.code(400).send({ status: env('400', 'ESB000033', 'DP00800001000', false, 'invalid msisdn length') });
      if (this.txs.has(id)) return reply.code(400).send({ status: env('400', 'ESB000041', 'DP00800001000', false, 'external transaction ID already exists') });
      this.txs.set(id, { id, amount: b.transaction.amount, currency: b.transaction.currency ?? 'UGX', msisdn, status: 'TIP', message: 'In process' });
      return { data: { transaction: { id: false, status: 'SUCCESS' } }, status: env('200', 'ESB000010', 'DP00800001006', true, 'SUCCESS') };
    });
    // Airtel Collection transaction enquiry
    app.get<{ Params: { id: string } }>('/standard/v1/payments/:id', async (req, reply) => {
      if (!this.authorised(req, reply)) return reply;
      const tx = this.txs.get(req.params.id);
      if (!tx) return reply.code(404).send({ status: env('404', 'ESB000045', 'DP00800001025', false, 'no transaction with that id') });
      const response = tx.status === 'TS' ? 'DP00800001001' : tx.status === 'TF' ? 'DP00800001007' : tx.status === 'TA' ? 'DP00800001000' : 'DP00800001006';
      return {
        data: { transaction: { ...(tx.airtelMoneyId ? { airtel_money_id: tx.airtelMoneyId } : {}), id: tx.id, message: tx.message, status: tx.status } },
        status: env('200', 'ESB000010', response, true),
      };
    });
  }

  /** Test control: the payer's outcome. TS/TF send a callback in 'auto' mode. */
  decide(id: string, status: 'TS' | 'TF' | 'TA' | 'TIP'): void {
    const tx = this.txs.get(id);
    if (!tx) throw new Error(`no such transaction ${id}`);
    tx.status = status;
    if (status === 'TS') {
      tx.airtelMoneyId ??= `MP${Date.now()}.${randomBytes(3).toString('hex').toUpperCase()}`;
      tx.message = `Paid ${tx.currency} ${tx.amount.toLocaleString('en')} to MINIGRID, Trans ID ${tx.airtelMoneyId}.`;
    }
    if (status === 'TF') tx.message = 'Transaction failed';
    if ((this.opts.callbacks ?? 'auto') === 'auto' && (status === 'TS' || status === 'TF')) this.inflight.push(this.callback(id));
  }

  /** The Airtel callback body, hashed when the portal key is set; `forge` writes a wrong hash or overrides fields. */
  callbackBody(id: string, forge: { badHash?: boolean; status?: 'TS' | 'TF'; noHash?: boolean } = {}): Record<string, unknown> {
    const tx = this.txs.get(id);
    const transaction = {
      id,
      message: tx?.message ?? '',
      status_code: forge.status ?? (tx?.status === 'TF' ? 'TF' : 'TS'),
      airtel_money_id: tx?.airtelMoneyId ?? 'MP000000.0000.X00000',
    };
    if (!this.opts.callbackKey || forge.noHash) return { transaction };
    const hash = createHmac('sha256', forge.badHash ? 'not-the-key' : this.opts.callbackKey)
      .update(JSON.stringify(transaction))
      .digest('base64');
    return { transaction, hash };
  }

  async callback(id: string, opts: DeliveryOptions & { body?: Record<string, unknown> | string } = {}): Promise<Delivery[]> {
    const out = await deliver(this.opts.callbackUrl, opts.body ?? this.callbackBody(id), { ...opts, method: 'POST' });
    this.deliveries.push(...out);
    return out;
  }

  forget(id: string): void {
    this.txs.delete(id);
  }
}
