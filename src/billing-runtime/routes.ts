import { z } from '#zod';
import { HttpError, validationHttpError, type RouteRegistry } from '../api/route.js';
import { sentenceErrorMap } from '../api/validation-errors.js';
import { assignMeter, assignmentsOf, createCustomer, getCustomer, listCustomers } from '../billing/customers.js';
import { invoiceCsv } from '../billing/invoice-csv.js';
import { invoicePdf, invoicePdfInput, type InvoicePdfInput } from '../billing/invoice-pdf.js';
import { ACCOUNTS, type Ledger } from '../billing/ledger.js';
import { negate } from '../billing/money.js';
import { invoiceMonth, invoiceOf, openInvoices } from '../billing/postpaid.js';
import { loadTariff, saveTariff } from '../billing/tariff-store.js';
import { TariffSchema } from '../billing/tariff.js';
import { ensureBillingSchema } from '../billing/billing-schema.js';
import type { StoreDb } from '../store/database.js';
import type { User } from '../auth/user-store.js';
import { roleAllows } from '../auth/roles.js';
import { maskPhone } from '../util/mask.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { Customer } from '../billing/customers.js';
import type { PrepaidRuntime } from './prepaid-runtime.js';
import { describeStatement } from './statement-lines.js';

export interface BillingRouteDeps {
  readonly db: StoreDb;
  readonly ledger: Ledger;
  readonly timeZone: string;
  readonly prepaid: PrepaidRuntime;
  /** Meter keys of the site (e.g. meter2), to refuse an assignment to a meter that does not exist. */
  readonly meterExists: (key: string) => boolean;
  readonly now?: Clock;
  /** Operator or site name printed on invoice PDFs (default: the ledger's site id). */
  readonly siteName?: string;
  /** Renders an invoice PDF off this thread (system.ts: the read worker); without it PDFKit runs here. */
  readonly renderPdf?: (input: InvoicePdfInput) => Promise<Uint8Array>;
}

const instant = z.union([z.coerce.number().int().nonnegative(), z.iso.datetime({ offset: true }).transform((s) => Date.parse(s))]);
const meterRef = z.union([
  z
    .number()
    .int()
    .min(1)
    .max(247)
    .transform((n) => `meter${n}`),
  z.string().regex(/^meter\d{1,3}$/),
]);

/**
 * Billing errors are plain Errors with a clear message: the client's mistake unless proven otherwise.
 * A schema's refusal (zod) answers like the route registry's: 400 with a sentence per field of `body`.
 */
function clientErrors<T>(fn: () => T, body?: unknown): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof HttpError) throw e;
    if (e instanceof z.ZodError) throw validationHttpError('body', e, body);
    const msg = (e as Error).message;
    if (/UNIQUE constraint/.test(msg)) throw new HttpError(409, 'it exists already');
    throw new HttpError(/^unknown |^no /.test(msg) ? 404 : 400, msg);
  }
}

/** Personal data (phone numbers) is shown in full from the operator role up, masked below. */
const seesPersonalData = (user: User | null): boolean => user !== null && roleAllows(user.role, 'operator');
const shownCustomer = (c: Customer, user: User | null): Customer => (seesPersonalData(user) ? c : { ...c, phone: maskPhone(c.phone) });

/** Minimal billing API: customers and their meters, balances and statements, tariffs, postpaid invoices. */
export function registerBillingRoutes(routes: RouteRegistry, d: BillingRouteDeps): void {
  const now = d.now ?? systemClock;
  ensureBillingSchema(d.db);
  const view = (id: string, user: User | null) => {
    const c = getCustomer(d.db, id);
    if (!c) throw new HttpError(404, `no customer ${id}`);
    const balanceMinor = d.ledger.balance(ACCOUNTS.customer(c.id));
    return {
      customer: shownCustomer(c, user),
      account: ACCOUNTS.customer(c.id),
      currency: d.ledger.currency,
      /** Debit positive: a prepaid credit is negative, a postpaid debt positive. */
      balanceMinor,
      creditMinor: c.mode === 'prepaid' ? negate(balanceMinor) : null,
      availableCreditMinor: c.mode === 'prepaid' ? d.prepaid.available(c.id, now()) : null,
      meters: assignmentsOf(d.db, c.id),
      openInvoices:
        c.mode === 'postpaid'
          ? openInvoices(d.db, c.id).map((o) => ({ id: o.invoice.id, month: o.invoice.month, totalMinor: o.invoice.totalMinor, openMinor: o.openMinor }))
          : [],
    };
  };

  routes.add({
    method: 'GET',
    url: '/api/customers',
    summary: 'Customers of this site',
    role: 'viewer',
    handler: ({ user }) => ({ customers: listCustomers(d.db, { site: d.ledger.site }).map((c) => shownCustomer(c, user)) }),
  });
  routes.add({
    method: 'POST',
    url: '/api/customers',
    summary: 'Create a customer with its ledger account, optionally assigning a meter from now',
    role: 'operator',
    body: z
      .object({
        id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
        name: z.string().min(1).max(200),
        phone: z.string(),
        tariffId: z.string().min(1),
        mode: z.enum(['prepaid', 'postpaid']),
        protected: z.boolean().default(false),
        meter: meterRef.optional(),
      })
      .strict(),
    handler: ({ body, reply, user }) =>
      clientErrors(() => {
        if (body.meter && !d.meterExists(body.meter)) throw new HttpError(404, `no meter ${body.meter}`);
        const { meter, ...input } = body;
        d.db.transaction(() => {
          createCustomer(d.db, d.ledger, { ...input, site: d.ledger.site });
          if (meter) assignMeter(d.db, input.id, meter, now());
        })();
        void reply.code(201);
        return view(input.id, user);
      }, body),
  });
  routes.add({
    method: 'POST',
    url: '/api/customers/:id/meters',
    summary: "Assign a meter to a customer from a time (default now), ending the meter's previous assignment there",
    role: 'operator',
    params: z.object({ id: z.string().min(1) }).strict(),
    body: z.object({ meter: meterRef, from: instant.optional() }).strict(),
    handler: ({ params, body, user }) =>
      clientErrors(() => {
        if (!d.meterExists(body.meter)) throw new HttpError(404, `no meter ${body.meter}`);
        assignMeter(d.db, params.id, body.meter, body.from ?? now());
        return view(params.id, user);
      }),
  });
  routes.add({
    method: 'GET',
    url: '/api/customers/:id',
    summary: 'A customer: balance, available prepaid credit, meters and open invoices',
    role: 'viewer',
    params: z.object({ id: z.string().min(1) }).strict(),
    handler: ({ params, user }) => view(params.id, user),
  });
  routes.add({
    method: 'GET',
    url: '/api/customers/:id/statement',
    summary:
      "A customer's account statement for from <= t < to (unix ms or ISO 8601; default: the last 31 days). Rows: txId, atMs, kind, reference (machine-readable), description (words, site time zone, e.g. 'Energy 14:00–14:15, 0.42 kWh'), energyKWh (consumption rows), amountMinor, balanceMinor",
    role: 'viewer',
    params: z.object({ id: z.string().min(1) }).strict(),
    query: z.object({ from: instant.optional(), to: instant.optional() }).strict(),
    handler: ({ params, query }) => {
      if (!getCustomer(d.db, params.id)) throw new HttpError(404, `no customer ${params.id}`);
      const to = query.to ?? now() + 1;
      const from = query.from ?? to - 31 * 86_400_000;
      if (from >= to) throw new HttpError(400, 'from must be before to');
      const st = d.ledger.statement(ACCOUNTS.customer(params.id), from, to);
      // Each row keeps the ledger's machine reference and gets a description in words (site time zone).
      return { currency: d.ledger.currency, ...st, rows: describeStatement(d.db, st.rows, d.timeZone) };
    },
  });
  routes.add({
    method: 'GET',
    url: '/api/tariffs',
    summary: 'All tariffs with their versions',
    role: 'viewer',
    handler: () => {
      const ids = d.db.prepare<[], string>('SELECT id FROM billing_tariffs ORDER BY id').pluck().all();
      return { tariffs: ids.map((id) => loadTariff(d.db, id)) };
    },
  });
  routes.add({
    method: 'POST',
    url: '/api/tariffs',
    summary: 'Create a tariff or add versions; saved versions never change',
    role: 'admin',
    body: z.unknown(),
    handler: ({ body }) =>
      // Checked here with the registry's sentences first; saveTariff checks the site's currency and saved versions.
      clientErrors(() => ({ tariff: saveTariff(d.db, TariffSchema.parse(body, { error: sentenceErrorMap }), { currency: d.ledger.currency }) }), body),
  });
  routes.add({
    method: 'POST',
    url: '/api/customers/:id/invoices/:month',
    summary: 'Invoice a postpaid customer for a past local month (YYYY-MM); invoicing again returns the same invoice',
    role: 'operator',
    params: z.object({ id: z.string().min(1), month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/) }).strict(),
    handler: ({ params }) => clientErrors(() => ({ invoice: invoiceMonth(d.db, d.ledger, params.id, params.month, d.timeZone, now()) })),
  });
  routes.add({
    method: 'GET',
    url: '/api/invoices/:file',
    summary: 'An invoice as CSV or as a one-page A4 PDF: /api/invoices/<id>.csv, /api/invoices/<id>.pdf',
    role: 'viewer',
    params: z.object({ file: z.string().regex(/^\d+\.(csv|pdf)$/, 'expected <invoice id>.csv or <invoice id>.pdf') }).strict(),
    produces: 'text/csv',
    handler: async ({ params, reply, user }) => {
      const id = Number(params.file.slice(0, -4));
      const row = d.db.prepare<[number], { customer_id: string; month: string }>('SELECT customer_id, month FROM billing_invoices WHERE id = ?').get(id);
      const inv = row ? invoiceOf(d.db, row.customer_id, row.month) : undefined;
      if (!inv) throw new HttpError(404, `no invoice ${id}`);
      if (params.file.endsWith('.pdf')) {
        const input = invoicePdfInput(d.db, d.ledger, inv, { siteName: d.siteName ?? d.ledger.site, timeZone: d.timeZone, nowMs: now() });
        const shown = seesPersonalData(user) ? input : { ...input, customer: { ...input.customer, phone: maskPhone(input.customer.phone) } };
        const bytes = d.renderPdf ? await d.renderPdf(shown) : null;
        const doc = bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : invoicePdf(shown);
        return reply.header('content-type', 'application/pdf').header('content-disposition', `attachment; filename="invoice-${id}.pdf"`).send(doc);
      }
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="invoice-${id}.csv"`)
        .send(invoiceCsv(inv));
    },
  });
}
