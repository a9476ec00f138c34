import { randomBytes, randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { deliver, sandboxUrl, type Delivery, type DeliveryOptions } from './deliver.js';

/**
 * A fake MTN MoMo Collection sandbox (docs/payments.md#mtn-momo-collection, #sandboxes): 202 with an empty body, 409 on a reused id,
 * 404 on an unknown id, EUR only, the magic MSISDNs of MTN's "Sandbox use cases", callbacks by POST or PUT without a referenceId.
 */
export interface MtnSandboxOptions {
  readonly subscriptionKey: string;
  readonly apiUserId: string;
  readonly apiKey: string;
  readonly providerCallbackHost: string;
  /** 'auto' sends a callback when a request turns final; 'manual' leaves it to the test; 'drop' never sends. */
  readonly callbacks?: 'auto' | 'manual' | 'drop';
  readonly callbackMethod?: 'POST' | 'PUT';
  /** PayerOngoing (…453): PENDING, then SUCCESSFUL once this much time has passed (older docs: 30 s). */
  readonly ongoingMs?: number;
}

export interface MtnTx {
  referenceId: string;
  amount: string;
  currency: string;
  externalId: string;
  payer: { partyIdType: string; partyId: string };
  payerMessage: string;
  payeeNote: string;
  status: 'PENDING' | 'SUCCESSFUL' | 'FAILED';
  reason?: string;
  financialTransactionId?: string;
  callbackUrl?: string;
  createdMs: number;
  ongoing?: boolean;
}

/** MTN "Sandbox use cases" (the reason strings and which fail at POST vs GET are UNCONFIRMED; this choice is ours). */
const MAGIC: Record<string, { post?: [number, string]; fail?: string; pending?: 'ongoing' | 'delayed' }> = {
  '46733123450': { fail: 'INTERNAL_PROCESSING_ERROR' },
  '46733123451': { fail: 'APPROVAL_REJECTED' },
  '46733123452': { fail: 'EXPIRED' },
  '46733123453': { pending: 'ongoing' },
  '46733123454': { pending: 'delayed' },
  '46733123455': { fail: 'PAYER_NOT_FOUND' },
  '46733123456': { fail: 'PAYEE_NOT_ALLOWED_TO_RECEIVE' },
  '46733123457': { post: [500, 'NOT_ALLOWED'] },
  '46733123458': { post: [500, 'NOT_ALLOWED_TARGET_ENVIRONMENT'] },
  '46733123459': { post: [500, 'INVALID_CALLBACK_URL_HOST'] },
  '46733123460': { post: [500, 'INVALID_CURRENCY'] },
  '46733123461': { post: [500, 'INTERNAL_PROCESSING_ERROR'] },
  '46733123462': { post: [503, 'SERVICE_UNAVAILABLE'] },
  '46733123463': { fail: 'COULD_NOT_PERFORM_TRANSACTION' },
};

const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

export class MtnSandbox {
  readonly txs = new Map<string, MtnTx>();
  readonly deliveries: Delivery[] = [];
  private readonly tokens = new Set<string>();
  private readonly users = new Map<string, { host: string; key: string | null }>();
  private app: FastifyInstance | null = null;
  private pendingDeliveries: Array<Promise<unknown>> = [];
  url = '';

  constructor(private readonly opts: MtnSandboxOptions) {
    this.users.set(opts.apiUserId, { host: opts.providerCallbackHost, key: opts.apiKey });
  }

  async start(): Promise<string> {
    const app = Fastify({ logger: false });
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body === '' ? undefined : body));
    this.routes(app);
    await app.listen({ host: '127.0.0.1', port: 0 });
    this.app = app;
    this.url = sandboxUrl(app.server.address());
    return this.url;
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.pendingDeliveries);
    await this.app?.close();
  }

  /** Waits for every callback the sandbox has started to send. */
  async settle(): Promise<void> {
    await Promise.allSettled(this.pendingDeliveries);
  }

  private subscribed(req: FastifyRequest, reply: FastifyReply): boolean {
    if (req.headers['ocp-apim-subscription-key'] === this.opts.subscriptionKey) return true;
    void reply.code(401).send({ statusCode: 401, message: 'Access denied due to invalid subscription key.' });
    return false;
  }

  private authorised(req: FastifyRequest, reply: FastifyReply): boolean {
    if (!this.subscribed(req, reply)) return false;
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('Bearer ') || !this.tokens.has(auth.slice(7))) {
      void reply.code(401).send({ code: 'INVALID_TOKEN', message: 'Access token is missing or invalid' });
      return false;
    }
    if (req.headers['x-target-environment'] !== 'sandbox') {
      void reply.code(500).send({ code: 'NOT_ALLOWED_TARGET_ENVIRONMENT', message: 'Access to target environment is forbidden.' });
      return false;
    }
    return true;
  }

  private routes(app: FastifyInstance): void {
    // MTN sandbox provisioning (API user and key)
    app.post('/v1_0/apiuser', async (req, reply) => {
      if (!this.subscribed(req, reply)) return reply;
      const id = String(req.headers['x-reference-id'] ?? '');
      if (!UUID4.test(id)) return reply.code(400).send({ code: 'INVALID_REFERENCE_ID' });
      if (this.users.has(id)) return reply.code(409).send({ code: 'RESOURCE_ALREADY_EXIST', message: 'Duplicated reference id. Creation of resource failed.' });
      const body = JSON.parse((req.body as string | undefined) ?? '{}') as { providerCallbackHost?: string };
      this.users.set(id, { host: body.providerCallbackHost ?? '', key: null });
      return reply.code(201).send();
    });
    app.post<{ Params: { id: string } }>('/v1_0/apiuser/:id/apikey', async (req, reply) => {
      if (!this.subscribed(req, reply)) return reply;
      const u = this.users.get(req.params.id);
      if (!u) return reply.code(404).send({ code: 'RESOURCE_NOT_FOUND' });
      u.key = randomBytes(16).toString('hex');
      return reply.code(201).send({ apiKey: u.key });
    });
    // MTN Collection token: Basic auth, no body
    app.post('/collection/token/', async (req, reply) => {
      if (!this.subscribed(req, reply)) return reply;
      if (req.body !== undefined && req.body !== '') return reply.code(400).send({ error: 'request body not allowed' });
      const [id, key] = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64')
        .toString()
        .split(':');
      const u = id ? this.users.get(id) : undefined;
      if (!u || !key || u.key !== key) return reply.code(401).send({ error: 'login_failed' });
      const token = randomBytes(24).toString('base64url');
      this.tokens.add(token);
      return reply.code(200).send({ access_token: token, token_type: 'access_token', expires_in: 3600 });
    });
    // MTN Collection RequestToPay
    app.post('/collection/v1_0/requesttopay', async (req, reply) => {
      if (!this.authorised(req, reply)) return reply;
      const ref = String(req.headers['x-reference-id'] ?? '');
      if (!UUID4.test(ref)) return reply.code(400).send({ code: 'INVALID_REFERENCE_ID' });
      if (this.txs.has(ref)) return reply.code(409).send({ code: 'RESOURCE_ALREADY_EXIST', message: 'Duplicated reference id. Creation of resource failed.' });
      const cb = req.headers['x-callback-url'];
      if (cb !== undefined && String(cb) === '') return reply.code(400).send({ code: 'INVALID_CALLBACK_URL_HOST' });
      if (cb !== undefined && new URL(String(cb)).hostname !== this.opts.providerCallbackHost)
        return reply.code(500).send({ code: 'INVALID_CALLBACK_URL_HOST', message: 'Callback URL with different host' });
      // Parsed from the request as sent: any field may be missing.
      const b = JSON.parse((req.body as string | undefined) ?? '{}') as Partial<Omit<MtnTx, 'payer'>> & { payer?: Partial<MtnTx['payer']> };
      if (typeof b.amount !== 'string' || !/^\d+(\.\d+)?$/.test(b.amount) || !b.payer?.partyId) return reply.code(400).send({ code: 'BAD_REQUEST' });
      if ((b.payerMessage ?? '').length > 160 || (b.payeeNote ?? '').length > 160 || /'/.test(`${b.payerMessage}${b.payeeNote}`))
        return reply.code(400).send({ code: 'BAD_REQUEST' });
      // MTN: the sandbox accepts EUR only
      if (b.currency !== 'EUR') return reply.code(500).send({ code: 'INVALID_CURRENCY', message: 'Currency not supported.' });
      const magic = MAGIC[b.payer.partyId];
      if (magic?.post) return reply.code(magic.post[0]).send({ code: magic.post[1], message: magic.post[1] });
      const tx: MtnTx = {
        referenceId: ref,
        amount: b.amount,
        currency: b.currency,
        externalId: b.externalId ?? '',
        payer: { partyIdType: b.payer.partyIdType ?? 'MSISDN', partyId: b.payer.partyId },
        payerMessage: b.payerMessage ?? '',
        payeeNote: b.payeeNote ?? '',
        status: 'PENDING',
        ...(cb !== undefined ? { callbackUrl: String(cb) } : {}),
        createdMs: Date.now(),
        ...(magic?.pending === 'ongoing' ? { ongoing: true } : {}),
      };
      this.txs.set(ref, tx);
      if (!magic?.pending) this.finish(ref, magic?.fail ? 'FAILED' : 'SUCCESSFUL', magic?.fail);
      return reply.code(202).send();
    });
    // MTN RequestToPay transaction status
    app.get<{ Params: { ref: string } }>('/collection/v1_0/requesttopay/:ref', async (req, reply) => {
      if (!this.authorised(req, reply)) return reply;
      const tx = this.txs.get(req.params.ref);
      if (!tx) return reply.code(404).send({ code: 'RESOURCE_NOT_FOUND', message: 'Requested resource was not found.' });
      if (tx.ongoing && tx.status === 'PENDING' && Date.now() - tx.createdMs >= (this.opts.ongoingMs ?? 30_000)) this.finish(tx.referenceId, 'SUCCESSFUL');
      return reply.code(200).send(this.statusBody(tx));
    });
  }

  /** The status body; the callback body is the same (MTN callback page) and carries no referenceId. */
  statusBody(tx: MtnTx): Record<string, unknown> {
    return {
      ...(tx.financialTransactionId ? { financialTransactionId: tx.financialTransactionId } : {}),
      externalId: tx.externalId,
      amount: tx.amount,
      currency: tx.currency,
      payer: tx.payer,
      payerMessage: tx.payerMessage,
      payeeNote: tx.payeeNote,
      status: tx.status,
      ...(tx.reason ? { reason: tx.reason } : {}),
    };
  }

  /** Test control: the payer approves or refuses. */
  finish(ref: string, status: 'SUCCESSFUL' | 'FAILED', reason?: string): void {
    const tx = this.txs.get(ref);
    if (!tx) throw new Error(`no such request ${ref}`);
    tx.status = status;
    if (status === 'SUCCESSFUL') tx.financialTransactionId ??= String(1_000_000_000 + Math.floor(Math.random() * 8_999_999_999));
    if (reason) tx.reason = reason;
    if ((this.opts.callbacks ?? 'auto') === 'auto' && tx.callbackUrl) this.pendingDeliveries.push(this.callback(ref));
  }

  /** Test control: send the callback now, N times, late, with either method, optionally with a forged body. */
  async callback(ref: string, opts: DeliveryOptions & { body?: Record<string, unknown>; url?: string } = {}): Promise<Delivery[]> {
    const tx = this.txs.get(ref);
    const url = opts.url ?? tx?.callbackUrl;
    if (!url) throw new Error(`no callback URL for ${ref}`);
    const body = opts.body ?? (tx ? this.statusBody(tx) : {});
    const out = await deliver(url, body, { ...opts, method: opts.method ?? this.opts.callbackMethod ?? 'POST' });
    this.deliveries.push(...out);
    return out;
  }

  /** Test control for reconciliation: the provider's books disagree with ours. */
  setAmount(ref: string, amount: string): void {
    const tx = this.txs.get(ref);
    if (tx) tx.amount = amount;
  }

  forget(ref: string): void {
    this.txs.delete(ref);
  }

  static newReference(): string {
    return randomUUID();
  }
}
