import { z } from '#zod';
import { FeeQuoting, type FeeConfig } from '../fees.js';
import { callJson, type CachedToken } from '../http-json.js';
import { nationalNumber, toMajor, toMinor } from '../money.js';
import {
  ProviderRejected,
  type CallbackContext,
  type CallbackNotice,
  type PaymentProvider,
  type PaymentRequest,
  type PaymentStatus,
  type RequestResult,
  type StatusResult,
} from '../provider.js';

export interface PesapalConfig {
  readonly baseUrl: string;
  readonly consumerKey: string;
  readonly consumerSecret: string;
  /** Our IPN endpoint, registered once (RegisterIPN) and reused as notification_id. */
  readonly ipnUrl: string;
  /** Where Pesapal sends the payer's browser afterwards. */
  readonly callbackUrl: string;
  readonly countryCode: string;
  readonly fees: FeeConfig;
}

const TokenBody = z.object({ token: z.string(), expiryDate: z.string() });
const IpnBody = z.object({ ipn_id: z.string(), url: z.string() });
const OrderBody = z.object({ order_tracking_id: z.string(), merchant_reference: z.string(), redirect_url: z.string() });
/** Pesapal GetTransactionStatus: a pending order is HTTP 200 with body status "500" and status_code 0. */
const StatusBody = z.object({
  amount: z.number().nullable().optional(),
  currency: z.string().nullable().optional(),
  confirmation_code: z.string().nullable().optional(),
  order_tracking_id: z.string().nullable().optional(),
  merchant_reference: z.string().nullable().optional(),
  payment_status_description: z.string().nullable().optional(),
  status_code: z.number().int().nullable().optional(),
  status: z.string().optional(),
  error: z
    .object({ error_type: z.string().nullable().optional(), code: z.string().nullable().optional(), message: z.string().nullable().optional() })
    .nullable()
    .optional(),
});
/** Pesapal IPN: OrderTrackingId, OrderMerchantReference, OrderNotificationType=IPNCHANGE; no status, no signature. */
const Ipn = z.object({ OrderTrackingId: z.string().min(1), OrderMerchantReference: z.string().min(1), OrderNotificationType: z.string() });

/** Pesapal: key on status_code, not on the description (mixed case in live samples). 3 = REVERSED. */
const mapStatus = (code: number | null | undefined): PaymentStatus => (code === 1 ? 'successful' : code === 2 || code === 3 ? 'failed' : 'pending');

/** Pesapal API 3.0 (developer.pesapal.com; docs/payments.md#pesapal-api-30). */
export class PesapalAdapter extends FeeQuoting implements PaymentProvider {
  readonly name = 'pesapal' as const;
  readonly refIsOurReference = false;
  private token: CachedToken | null = null;
  private ipnId: string | null = null;

  constructor(private readonly cfg: PesapalConfig) {
    super();
  }

  protected get feeConfig(): FeeConfig {
    return this.cfg.fees;
  }

  private static readonly JSON = { accept: 'application/json', 'content-type': 'application/json' };

  /** Pesapal RequestToken: refresh from `expiryDate`, not from a constant. */
  private async bearer(): Promise<string> {
    if (this.token && Date.now() < this.token.refreshAtMs) return this.token.token;
    const r = await callJson(`${this.cfg.baseUrl}/api/Auth/RequestToken`, {
      method: 'POST',
      headers: PesapalAdapter.JSON,
      body: { consumer_key: this.cfg.consumerKey, consumer_secret: this.cfg.consumerSecret },
    });
    const t = TokenBody.safeParse(r.body);
    if (r.status !== 200 || !t.success) throw new Error(`Pesapal token: HTTP ${r.status} ${r.text}`);
    this.token = { token: t.data.token, refreshAtMs: Date.parse(t.data.expiryDate) - 30_000 };
    return t.data.token;
  }

  private async headers(): Promise<Record<string, string>> {
    return { ...PesapalAdapter.JSON, authorization: `Bearer ${await this.bearer()}` };
  }

  /** Pesapal RegisterIPN with POST notifications; the ipn_id is the order's notification_id. */
  async registerIpn(): Promise<string> {
    if (this.ipnId) return this.ipnId;
    const r = await callJson(`${this.cfg.baseUrl}/api/URLSetup/RegisterIPN`, {
      method: 'POST',
      headers: await this.headers(),
      body: { url: this.cfg.ipnUrl, ipn_notification_type: 'POST' },
    });
    const b = IpnBody.safeParse(r.body);
    if (r.status !== 200 || !b.success) throw new Error(`Pesapal RegisterIPN: HTTP ${r.status} ${r.text}`);
    this.ipnId = b.data.ipn_id;
    return this.ipnId;
  }

  /** Pesapal SubmitOrderRequest: `id` is our reference (max 50), description max 100, phone or email required. */
  async requestPayment(req: PaymentRequest): Promise<RequestResult> {
    if (req.reference.length > 50) throw new ProviderRejected('INVALID_ID', 'Pesapal id is at most 50 characters');
    const notificationId = await this.registerIpn();
    const r = await callJson(`${this.cfg.baseUrl}/api/Transactions/SubmitOrderRequest`, {
      method: 'POST',
      headers: await this.headers(),
      body: {
        id: req.reference,
        currency: req.currency,
        amount: toMajor(req.amountMinor, req.currency),
        description: req.description.slice(0, 100),
        callback_url: this.cfg.callbackUrl,
        notification_id: notificationId,
        billing_address: { phone_number: `0${nationalNumber(req.msisdn)}`, country_code: this.cfg.countryCode },
      },
    });
    const b = OrderBody.safeParse(r.body);
    if (r.status === 200 && b.success) return { providerRef: b.data.order_tracking_id, status: 'pending', redirectUrl: b.data.redirect_url };
    if (r.status >= 500 || r.status === 0) throw new Error(`Pesapal order: HTTP ${r.status} ${r.text}`);
    throw new ProviderRejected(`HTTP_${r.status}`, `Pesapal refused: ${r.text}`);
  }

  /** Pesapal IPN as a POST JSON body or GET query; it carries no status and no signature. */
  verifyCallback(rawBody: string, _headers: Readonly<Record<string, string | string[] | undefined>>, ctx?: CallbackContext): CallbackNotice {
    const source: unknown = rawBody.trim().length > 0 ? JSON.parse(rawBody) : (ctx?.query ?? {});
    const b = Ipn.parse(source);
    return {
      reference: b.OrderMerchantReference,
      providerRef: b.OrderTrackingId,
      claimedStatus: null,
      claimedAmountMinor: null,
      providerTxId: null,
      signatureValid: null,
    };
  }

  /** Pesapal GetTransactionStatus?orderTrackingId=... */
  async status(providerRef: string): Promise<StatusResult> {
    const r = await callJson(`${this.cfg.baseUrl}/api/Transactions/GetTransactionStatus?orderTrackingId=${encodeURIComponent(providerRef)}`, {
      method: 'GET',
      headers: await this.headers(),
    });
    if (r.status !== 200) throw new Error(`Pesapal status: HTTP ${r.status} ${r.text}`);
    const b = StatusBody.parse(r.body);
    const status = mapStatus(b.status_code);
    // A pending order is status_code 0 with payment_details_not_found; an order Pesapal does not know has no
    // status_code at all (the exact unknown-order answer is UNCONFIRMED).
    const known = b.status_code !== null && b.status_code !== undefined;
    const amountMinor = b.amount != null && b.currency ? toMinor(b.amount, b.currency) : null;
    return {
      status,
      amountMinor,
      currency: b.currency ?? null,
      providerTxId: b.confirmation_code || null,
      reason: status === 'failed' ? (b.payment_status_description ?? `status_code ${b.status_code}`) : null,
      known,
    };
  }

  /** Pesapal 3.0 documents no transaction listing: reconciliation re-queries each intent. */
  listTransactions(): Promise<null> {
    return Promise.resolve(null);
  }

  /** Pesapal IPN: the exact acknowledgement Pesapal expects, status 500 on failure. */
  static ipnAck(notice: { trackingId: string; merchantReference: string }, ok: boolean): Record<string, unknown> {
    return { orderNotificationType: 'IPNCHANGE', orderTrackingId: notice.trackingId, orderMerchantReference: notice.merchantReference, status: ok ? 200 : 500 };
  }
}
