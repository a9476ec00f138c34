import { randomBytes, randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { deliver, sandboxUrl, type Delivery } from './deliver.js';

/**
 * A fake Pesapal API 3.0 (docs/payments.md#pesapal-api-30, #sandboxes): HTTP 200 + status "500" for a pending order,
 * status_code 0-3, mixed-case descriptions, IPN re-sent until the exact JSON ack comes back, token expiry
 * from `expiryDate`.
 */
export interface PesapalSandboxOptions {
  readonly consumerKey: string;
  readonly consumerSecret: string;
  readonly tokenTtlMs?: number;
  readonly ipn?: 'auto' | 'manual' | 'drop';
  /** Live samples say "Completed", the docs "COMPLETED" (Pesapal GetTransactionStatus). */
  readonly mixedCase?: boolean;
  readonly maxIpnAttempts?: number;
}

export interface PesapalOrder {
  trackingId: string;
  merchantReference: string;
  amount: number;
  currency: string;
  description: string;
  notificationId: string;
  statusCode: 0 | 1 | 2 | 3;
  confirmationCode: string | null;
  createdMs: number;
}

const DESCRIPTIONS = ['INVALID', 'COMPLETED', 'FAILED', 'REVERSED'] as const;

export class PesapalSandbox {
  readonly orders = new Map<string, PesapalOrder>();
  readonly ipns = new Map<string, { url: string; type: 'GET' | 'POST'; created: string }>();
  readonly deliveries: Delivery[] = [];
  private readonly tokens = new Map<string, number>();
  private app: FastifyInstance | null = null;
  private inflight: Array<Promise<unknown>> = [];
  url = '';

  constructor(private readonly opts: PesapalSandboxOptions) {}

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
    const t = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    const exp = this.tokens.get(t);
    if (exp !== undefined && exp > Date.now()) return true;
    void reply.code(401).send({ error: { type: 'error', code: 'invalid_api_credentials_provided', message: 'token expired or invalid' }, status: '500' });
    return false;
  }

  private routes(app: FastifyInstance): void {
    app.post('/api/Auth/RequestToken', async (req, reply) => {
      const b = (req.body ?? {}) as { consumer_key?: string; consumer_secret?: string };
      if (b.consumer_key !== this.opts.consumerKey || b.consumer_secret !== this.opts.consumerSecret)
        return reply.code(200).send({
          token: null,
          expiryDate: null,
          error: { type: 'error', code: 'invalid_consumer_key_or_secret_provided', message: 'bad credentials' },
          status: '500',
        });
      const token = randomBytes(24).toString('base64url');
      const exp = Date.now() + (this.opts.tokenTtlMs ?? 300_000);
      this.tokens.set(token, exp);
      return { token, expiryDate: new Date(exp).toISOString(), error: null, status: '200', message: 'Request processed successfully' };
    });
    app.post('/api/URLSetup/RegisterIPN', async (req, reply) => {
      if (!this.authorised(req, reply)) return reply;
      const b = (req.body ?? {}) as { url?: string; ipn_notification_type?: string };
      if (!b.url || (b.ipn_notification_type !== 'GET' && b.ipn_notification_type !== 'POST'))
        return reply.code(400).send({ error: { type: 'error', code: 'invalid_ipn', message: 'url and ipn_notification_type' }, status: '400' });
      const ipnId = randomUUID();
      const created = new Date().toISOString();
      this.ipns.set(ipnId, { url: b.url, type: b.ipn_notification_type, created });
      // the recorded fixture's misspelled key `ipn_status_decription` is kept on purpose
      return {
        id: this.ipns.size,
        url: b.url,
        created_date: created,
        ipn_id: ipnId,
        notification_type: b.ipn_notification_type === 'GET' ? 0 : 1,
        ipn_notification_type_description: b.ipn_notification_type,
        ipn_status: 1,
        ipn_status_decription: 'Active',
        error: null,
        status: '200',
      };
    });
    app.get('/api/URLSetup/GetIpnList', async (req, reply) => {
      if (!this.authorised(req, reply)) return reply;
      return [...this.ipns.entries()].map(([id, v]) => ({ url: v.url, created_date: v.created, ipn_id: id, error: null, status: '200' }));
    });
    app.post('/api/Transactions/SubmitOrderRequest', async (req, reply) => {
      if (!this.authorised(req, reply)) return reply;
      const b = (req.body ?? {}) as {
        id?: string;
        currency?: string;
        amount?: unknown;
        description?: string;
        callback_url?: string;
        notification_id?: string;
        billing_address?: { email_address?: string; phone_number?: string };
      };
      const bad = (message: string) =>
        reply.code(200).send({
          order_tracking_id: null,
          merchant_reference: b.id ?? null,
          redirect_url: null,
          error: { error_type: 'api_error', code: 'invalid_request', message },
          status: '500',
        });
      if (!b.id || b.id.length > 50) return bad('id is required, max 50 characters');
      if (typeof b.amount !== 'number' || !(b.amount > 0)) return bad('amount');
      if (!b.description || b.description.length > 100) return bad('description is required, max 100 characters');
      if (!b.callback_url) return bad('callback_url');
      if (!b.notification_id || !this.ipns.has(b.notification_id)) return bad('notification_id is not a registered IPN');
      if (!b.billing_address?.email_address && !b.billing_address?.phone_number) return bad('email or phone is required');
      if ([...this.orders.values()].some((o) => o.merchantReference === b.id)) return bad('duplicate merchant reference');
      const trackingId = randomUUID();
      this.orders.set(trackingId, {
        trackingId,
        merchantReference: b.id,
        amount: b.amount,
        currency: b.currency ?? 'UGX',
        description: b.description,
        notificationId: b.notification_id,
        statusCode: 0,
        confirmationCode: null,
        createdMs: Date.now(),
      });
      return {
        order_tracking_id: trackingId,
        merchant_reference: b.id,
        redirect_url: `${this.url}/pesapaliframe/PesapalIframe3/Index?OrderTrackingId=${trackingId}`,
        error: null,
        status: '200',
      };
    });
    app.get<{ Querystring: { orderTrackingId?: string } }>('/api/Transactions/GetTransactionStatus', async (req, reply) => {
      if (!this.authorised(req, reply)) return reply;
      const o = this.orders.get(req.query.orderTrackingId ?? '');
      if (!o) return { status_code: null, error: { error_type: 'api_error', code: 'order_not_found', message: 'Order not found' }, status: '500' };
      return this.statusBody(o);
    });
  }

  statusBody(o: PesapalOrder): Record<string, unknown> {
    const d = DESCRIPTIONS[o.statusCode];
    const description = this.opts.mixedCase ? d.charAt(0) + d.slice(1).toLowerCase() : d;
    const base = {
      payment_method: o.statusCode === 0 ? null : 'MpesaKE',
      amount: o.amount,
      created_date: new Date(o.createdMs).toISOString(),
      confirmation_code: o.confirmationCode ?? '',
      order_tracking_id: o.trackingId,
      payment_status_description: description,
      description: o.description,
      message: 'Request processed successfully',
      payment_account: '',
      call_back_url: `https://example.invalid/return?OrderTrackingId=${o.trackingId}&OrderMerchantReference=${o.merchantReference}`,
      status_code: o.statusCode,
      merchant_reference: o.merchantReference,
      payment_status_code: '',
      currency: o.currency,
    };
    // Pesapal GetTransactionStatus: a pending order is HTTP 200 with body status "500" and payment_details_not_found
    if (o.statusCode === 0)
      return { ...base, error: { error_type: 'api_error', code: 'payment_details_not_found', message: 'Pending Payment', call_back_url: '' }, status: '500' };
    return { ...base, error: { error_type: null, code: null, message: null, call_back_url: null }, status: '200' };
  }

  byReference(merchantReference: string): PesapalOrder {
    const o = [...this.orders.values()].find((x) => x.merchantReference === merchantReference);
    if (!o) throw new Error(`no order ${merchantReference}`);
    return o;
  }

  /** Test control: the payer's outcome (1 COMPLETED, 2 FAILED, 3 REVERSED). */
  decide(trackingId: string, code: 1 | 2 | 3): void {
    const o = this.orders.get(trackingId);
    if (!o) throw new Error(`no order ${trackingId}`);
    o.statusCode = code;
    if (code === 1) o.confirmationCode ??= randomBytes(5).toString('hex').toUpperCase();
    if ((this.opts.ipn ?? 'auto') === 'auto') this.inflight.push(this.ipn(trackingId));
  }

  /** Pesapal IPN: re-sent until the exact acknowledgement comes back (retries documented for API 2.0 only). */
  async ipn(trackingId: string, opts: { times?: number; merchantReference?: string; delayMs?: number } = {}): Promise<Delivery[]> {
    const o = this.orders.get(trackingId);
    const ipn = o ? this.ipns.get(o.notificationId) : [...this.ipns.values()][0];
    if (!ipn) throw new Error('no IPN registered');
    const fields = {
      OrderTrackingId: trackingId,
      OrderMerchantReference: opts.merchantReference ?? o?.merchantReference ?? '',
      OrderNotificationType: 'IPNCHANGE',
    };
    const expected = JSON.stringify({
      orderNotificationType: 'IPNCHANGE',
      orderTrackingId: fields.OrderTrackingId,
      orderMerchantReference: fields.OrderMerchantReference,
      status: 200,
    });
    const out: Delivery[] = [];
    const url = ipn.type === 'GET' ? `${ipn.url}?${new URLSearchParams(fields).toString()}` : ipn.url;
    for (let n = 0; n < (opts.times ?? 1); n++) {
      for (let attempt = 0; attempt < (this.opts.maxIpnAttempts ?? 3); attempt++) {
        const [d] = await deliver(url, fields, { method: ipn.type, ...(attempt === 0 && n === 0 && opts.delayMs ? { delayMs: opts.delayMs } : {}) });
        if (!d) break;
        out.push(d);
        if (d.status === 200 && d.body === expected) break;
      }
    }
    this.deliveries.push(...out);
    return out;
  }

  setAmount(trackingId: string, amount: number): void {
    const o = this.orders.get(trackingId);
    if (o) o.amount = amount;
  }

  forget(trackingId: string): void {
    this.orders.delete(trackingId);
  }
}
