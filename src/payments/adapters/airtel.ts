import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from '#zod';
import { FeeQuoting, type FeeConfig } from '../fees.js';
import { callJson, type CachedToken } from '../http-json.js';
import { airtelMsisdn, toMajor } from '../money.js';
import {
  ProviderRejected,
  type CallbackNotice,
  type PaymentProvider,
  type PaymentRequest,
  type PaymentStatus,
  type RequestResult,
  type StatusResult,
} from '../provider.js';

export interface AirtelConfig {
  readonly baseUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly country: string;
  readonly currency: string;
  /** Set when "Callback with Authentication" is enabled on the portal (Airtel callback docs): a callback without a good hash is refused. */
  readonly callbackKey?: string;
  readonly fees: FeeConfig;
}

const Envelope = z.object({
  code: z.string().optional(),
  message: z.string().optional(),
  result_code: z.string().optional(),
  response_code: z.string().optional(),
  success: z.boolean().optional(),
});
/** Airtel token: `expires_in` is a string in the docs sample. */
const TokenBody = z.object({ access_token: z.string(), expires_in: z.union([z.string(), z.number()]), token_type: z.string().optional() });
const StatusBody = z.object({
  data: z.object({
    transaction: z.object({
      airtel_money_id: z.string().optional(),
      id: z.union([z.string(), z.boolean()]).optional(),
      message: z.string().optional(),
      status: z.string(),
    }),
  }),
  status: Envelope,
});
const PushBody = z.object({ status: Envelope }).loose();
const Callback = z.object({
  transaction: z.object({ id: z.string(), message: z.string().optional(), status_code: z.string(), airtel_money_id: z.string().optional() }),
  hash: z.string().optional(),
});

/** Airtel transaction enquiry status: TS success and TF failed are terminal; TA ambiguous and TIP in progress are re-queried. */
const mapStatus = (s: string): PaymentStatus => (s === 'TS' ? 'successful' : s === 'TF' ? 'failed' : 'pending');

/**
 * The callback hash (Airtel callback docs) is believed to be base64 HMAC-SHA256 under the portal key; which bytes are hashed is
 * UNCONFIRMED. We hash JSON.stringify(body.transaction) in received key order. Revisit with Airtel's own text.
 */
export function airtelCallbackHash(key: string, transaction: unknown): string {
  return createHmac('sha256', key).update(JSON.stringify(transaction)).digest('base64');
}

/** Airtel Money Africa Open API, Collection (developers.airtel.africa; docs/payments.md#airtel-money-collection). */
export class AirtelAdapter extends FeeQuoting implements PaymentProvider {
  readonly name = 'airtel' as const;
  readonly refIsOurReference = true;
  private token: CachedToken | null = null;

  constructor(private readonly cfg: AirtelConfig) {
    super();
  }

  protected get feeConfig(): FeeConfig {
    return this.cfg.fees;
  }

  /** Airtel token: POST /auth/oauth2/token with a JSON client_credentials body. */
  private async bearer(): Promise<string> {
    if (this.token && Date.now() < this.token.refreshAtMs) return this.token.token;
    const r = await callJson(`${this.cfg.baseUrl}/auth/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: '*/*' },
      body: { client_id: this.cfg.clientId, client_secret: this.cfg.clientSecret, grant_type: 'client_credentials' },
    });
    if (r.status !== 200) throw new Error(`Airtel token: HTTP ${r.status} ${r.text}`);
    const t = TokenBody.parse(r.body);
    const seconds = Number(t.expires_in);
    this.token = { token: t.access_token, refreshAtMs: Date.now() + Math.max(0, seconds - 30) * 1000 };
    return t.access_token;
  }

  private async headers(): Promise<Record<string, string>> {
    return {
      authorization: `Bearer ${await this.bearer()}`,
      'x-country': this.cfg.country,
      'x-currency': this.cfg.currency,
      'content-type': 'application/json',
      accept: '*/*',
    };
  }

  /** Airtel USSD push: DP00800001006 = in process; ESB000041 = our id already exists, so it was created. */
  async requestPayment(req: PaymentRequest): Promise<RequestResult> {
    if (req.currency !== this.cfg.currency) throw new ProviderRejected('ESB000035', `Airtel is configured for ${this.cfg.currency}`);
    const r = await callJson(`${this.cfg.baseUrl}/merchant/v1/payments/`, {
      method: 'POST',
      headers: await this.headers(),
      body: {
        reference: req.description.slice(0, 64),
        subscriber: { country: this.cfg.country, currency: req.currency, msisdn: airtelMsisdn(req.msisdn) },
        transaction: { amount: toMajor(req.amountMinor, req.currency), country: this.cfg.country, currency: req.currency, id: req.reference },
      },
    });
    const parsed = PushBody.safeParse(r.body);
    if (!parsed.success) throw new Error(`Airtel push: HTTP ${r.status} ${r.text}`);
    const s = parsed.data.status;
    if (s.result_code === 'ESB000041') return { providerRef: req.reference, status: 'pending' };
    if (r.status === 200 && (s.response_code === 'DP00800001006' || s.success === true)) return { providerRef: req.reference, status: 'pending' };
    if (s.result_code === 'ESB000001' || s.result_code === 'ESB000014' || s.response_code === 'DP00800001000')
      throw new Error(`Airtel push ambiguous: ${r.text}`);
    throw new ProviderRejected(s.response_code ?? s.result_code ?? `HTTP_${r.status}`, `Airtel refused: ${r.text}`);
  }

  /** Airtel callback: a hash only when authentication is enabled; every callback is still re-queried. */
  verifyCallback(rawBody: string): CallbackNotice {
    const raw: unknown = JSON.parse(rawBody);
    const b = Callback.parse(raw);
    let signatureValid: boolean | null = null;
    if (this.cfg.callbackKey !== undefined) {
      const tx = (raw as { transaction: unknown }).transaction;
      const want = Buffer.from(airtelCallbackHash(this.cfg.callbackKey, tx));
      const got = Buffer.from(b.hash ?? '');
      signatureValid = want.length === got.length && timingSafeEqual(want, got);
    }
    const st = b.transaction.status_code;
    return {
      reference: b.transaction.id,
      providerRef: b.transaction.id,
      claimedStatus: st === 'TS' || st === 'TF' ? mapStatus(st) : null,
      claimedAmountMinor: null,
      providerTxId: b.transaction.airtel_money_id ?? null,
      signatureValid,
    };
  }

  /** Airtel transaction enquiry: GET /standard/v1/payments/{id}. The response carries no amount; ESB000045 = no such transaction. */
  async status(providerRef: string): Promise<StatusResult> {
    const r = await callJson(`${this.cfg.baseUrl}/standard/v1/payments/${encodeURIComponent(providerRef)}`, { method: 'GET', headers: await this.headers() });
    const env = z.object({ status: Envelope }).loose().safeParse(r.body);
    if (env.success && env.data.status.result_code === 'ESB000045')
      return { status: 'pending', amountMinor: null, currency: null, providerTxId: null, reason: 'ESB000045', known: false };
    if (r.status !== 200) throw new Error(`Airtel status: HTTP ${r.status} ${r.text}`);
    const b = StatusBody.parse(r.body);
    const t = b.data.transaction;
    return {
      status: mapStatus(t.status),
      amountMinor: null,
      currency: null,
      providerTxId: t.airtel_money_id ?? null,
      reason: t.status === 'TF' ? (b.status.response_code ?? t.message ?? 'TF') : null,
      known: true,
    };
  }

  /** No listing endpoint is documented for Airtel Collection: reconciliation re-queries each intent. */
  listTransactions(): Promise<null> {
    return Promise.resolve(null);
  }
}
