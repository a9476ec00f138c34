import { z } from '#zod';
import { FeeQuoting, type FeeConfig } from '../fees.js';
import { callJson, type CachedToken } from '../http-json.js';
import { mtnMsisdn, toMajor, toMinor } from '../money.js';
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

export interface MtnConfig {
  readonly baseUrl: string;
  readonly subscriptionKey: string;
  readonly apiUserId: string;
  readonly apiKey: string;
  /** `sandbox` or `mtnuganda` (MTN Common Error Codes page). */
  readonly targetEnvironment: string;
  /** Our callback base; the reference is appended as a path segment because MTN sends none in the body (MTN callback page). */
  readonly callbackUrl?: string;
  readonly fees: FeeConfig;
}

/** RequestToPay status body; a FAILED result adds `reason` and may omit `financialTransactionId`. */
const StatusBody = z.object({
  financialTransactionId: z.string().optional(),
  externalId: z.string().optional(),
  amount: z.string(),
  currency: z.string(),
  status: z.enum(['PENDING', 'SUCCESSFUL', 'FAILED']),
  reason: z.union([z.string(), z.object({ code: z.string().optional(), message: z.string().optional() })]).optional(),
});
const TokenBody = z.object({ access_token: z.string(), token_type: z.string(), expires_in: z.number().int() });
const ErrorBody = z.object({ code: z.string().optional(), status: z.string().optional(), message: z.string().optional() }).loose();

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const mapStatus = (s: 'PENDING' | 'SUCCESSFUL' | 'FAILED'): PaymentStatus => (s === 'SUCCESSFUL' ? 'successful' : s === 'FAILED' ? 'failed' : 'pending');

/** MTN MoMo Collection API (momodeveloper.mtn.com; docs/payments.md#mtn-momo-collection). */
export class MtnAdapter extends FeeQuoting implements PaymentProvider {
  readonly name = 'mtn' as const;
  readonly refIsOurReference = true;
  private token: CachedToken | null = null;

  constructor(private readonly cfg: MtnConfig) {
    super();
  }

  protected get feeConfig(): FeeConfig {
    return this.cfg.fees;
  }

  /** MTN token: POST /collection/token/ with Basic auth and no body; refresh 10 minutes before expiry. */
  private async bearer(): Promise<string> {
    if (this.token && Date.now() < this.token.refreshAtMs) return this.token.token;
    const basic = Buffer.from(`${this.cfg.apiUserId}:${this.cfg.apiKey}`).toString('base64');
    const r = await callJson(`${this.cfg.baseUrl}/collection/token/`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'ocp-apim-subscription-key': this.cfg.subscriptionKey },
    });
    if (r.status !== 200) throw new Error(`MTN token: HTTP ${r.status} ${r.text}`);
    const t = TokenBody.parse(r.body);
    this.token = { token: t.access_token, refreshAtMs: Date.now() + Math.max(0, t.expires_in - 600) * 1000 };
    return t.access_token;
  }

  private async headers(): Promise<Record<string, string>> {
    return {
      authorization: `Bearer ${await this.bearer()}`,
      'x-target-environment': this.cfg.targetEnvironment,
      'ocp-apim-subscription-key': this.cfg.subscriptionKey,
    };
  }

  /** MTN RequestToPay: X-Reference-Id must be a UUIDv4; amount is a string; 202 empty = PENDING; 409 = already created. */
  async requestPayment(req: PaymentRequest): Promise<RequestResult> {
    if (!UUID_V4.test(req.reference)) throw new ProviderRejected('INVALID_REFERENCE', 'MTN X-Reference-Id must be a UUIDv4');
    const headers: Record<string, string> = { ...(await this.headers()), 'x-reference-id': req.reference, 'content-type': 'application/json' };
    if (this.cfg.callbackUrl) headers['x-callback-url'] = `${this.cfg.callbackUrl}/${req.reference}`;
    const message = req.description.replace(/['"]/g, '').slice(0, 160);
    const r = await callJson(`${this.cfg.baseUrl}/collection/v1_0/requesttopay`, {
      method: 'POST',
      headers,
      body: {
        amount: String(toMajor(req.amountMinor, req.currency)),
        currency: req.currency,
        externalId: req.reference,
        payer: { partyIdType: 'MSISDN', partyId: mtnMsisdn(req.msisdn) },
        payerMessage: message,
        payeeNote: message,
      },
    });
    if (r.status === 202 || r.status === 409) return { providerRef: req.reference, status: 'pending' };
    const err = ErrorBody.safeParse(r.body);
    const code = (err.success ? (err.data.code ?? err.data.status) : undefined) ?? `HTTP_${r.status}`;
    // MTN RequestToPay: 400/500 with a code are refusals; 503 and network errors leave the intent pending for the sweeper.
    if (r.status === 400 || r.status === 401 || r.status === 404 || r.status === 500) throw new ProviderRejected(code, `MTN refused: ${r.text}`);
    throw new Error(`MTN requesttopay: HTTP ${r.status} ${r.text}`);
  }

  /** MTN callback page: the body is the status body without a referenceId; the reference is our callback path. MTN signs nothing. */
  verifyCallback(rawBody: string, _headers: Readonly<Record<string, string | string[] | undefined>>, ctx?: CallbackContext): CallbackNotice {
    const parsed = StatusBody.safeParse(JSON.parse(rawBody));
    if (!parsed.success) throw new Error(`MTN callback: ${parsed.error.message}`);
    const b = parsed.data;
    let claimed: number | null;
    try {
      claimed = toMinor(b.amount, b.currency);
    } catch {
      claimed = null;
    }
    const ref = ctx?.pathRef ?? null;
    return {
      reference: ref,
      providerRef: ref,
      claimedStatus: mapStatus(b.status),
      claimedAmountMinor: claimed,
      providerTxId: b.financialTransactionId ?? null,
      signatureValid: null,
    };
  }

  /** MTN RequestToPay status: GET /collection/v1_0/requesttopay/{referenceId}; unknown id = 404. */
  async status(providerRef: string): Promise<StatusResult> {
    const r = await callJson(`${this.cfg.baseUrl}/collection/v1_0/requesttopay/${encodeURIComponent(providerRef)}`, {
      method: 'GET',
      headers: await this.headers(),
    });
    if (r.status === 404) return { status: 'pending', amountMinor: null, currency: null, providerTxId: null, reason: 'not found at provider', known: false };
    if (r.status !== 200) throw new Error(`MTN status: HTTP ${r.status} ${r.text}`);
    const b = StatusBody.parse(r.body);
    const reason = b.reason === undefined ? null : typeof b.reason === 'string' ? b.reason : (b.reason.code ?? null);
    return {
      status: mapStatus(b.status),
      amountMinor: toMinor(b.amount, b.currency),
      currency: b.currency,
      providerTxId: b.financialTransactionId ?? null,
      reason,
      known: true,
    };
  }

  /** MTN Collection has no transaction listing: reconciliation re-queries each intent. */
  listTransactions(): Promise<null> {
    return Promise.resolve(null);
  }
}
