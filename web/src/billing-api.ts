import { q, request } from './api.js';

export interface Customer {
  id: string;
  name: string;
  phone: string;
  site: string;
  tariffId: string;
  mode: 'prepaid' | 'postpaid';
  protected: boolean;
}
export interface Assignment {
  customerId?: string;
  meterKey: string;
  fromMs: number;
  toMs: number | null;
}
export interface CustomerView {
  customer: Customer;
  account: string;
  currency: string;
  balanceMinor: number;
  creditMinor: number | null;
  availableCreditMinor: number | null;
  meters: Assignment[];
  openInvoices: Array<{ id: number; month: string; totalMinor: number; openMinor: number }>;
}
/** `description` says the row in words (site time zone); `energyKWh` is the energy a consumption row charged. */
export interface StatementRow {
  txId: number;
  atMs: number;
  kind: string;
  reference: string;
  description?: string;
  energyKWh?: number | null;
  amountMinor: number;
  balanceMinor: number;
}
export interface Statement {
  currency: string;
  account: string;
  openingMinor: number;
  rows: StatementRow[];
  closingMinor: number;
}
export interface Payment {
  id: string;
  account: string;
  provider: string;
  amountMinor: number;
  feeMinor: number;
  currency: string;
  providerTxId: string | null;
  state: string;
  reason: string | null;
  createdMs: number;
}
export interface Quote {
  amountMinor: number;
  feeMinor: number;
  payerPaysMinor: number;
  creditMinor: number;
  bearer: string;
  currency: string;
  energyKwh: number | null;
}
export interface Proposal {
  id: number;
  capability: string;
  asset: { customer: string; meter: number };
  reason: string;
  state: string;
  createdAt: number;
  decidedBy: string | null;
  decidedAt: number | null;
  why: string | null;
}
export interface AuditEntry {
  id: number;
  ts: number;
  actor: string;
  action: string;
  proposalId: number | null;
  customer: string | null;
  meter: number | null;
  detail: string;
}
export interface TouPeriod {
  name: string;
  fromMinute: number;
  toMinute: number;
  weekdays?: number[];
  priceE4: number;
}
export interface TariffVersion {
  version: number;
  effectiveFrom: string;
  energy: { kind: string; priceE4?: number; blocks?: Array<{ upToKWh: number | null; priceE4: number }>; periods?: TouPeriod[]; otherwisePriceE4?: number };
  fixedMonthlyMinor: number;
  fees?: Array<{ name: string; amountMinor: number }>;
  taxes: Array<{ name: string; rateBp: number; base: string[] }>;
}
export interface Tariff {
  id: string;
  name: string;
  currency: string;
  versions: TariffVersion[];
}
/** collectionRate = collectedMinor / dueMinor (debt brought into the month plus its charges). */
export interface SiteDashboard {
  site: string;
  currency: string;
  month: string;
  revenueMinor: number;
  revenueEnergyMinor: number;
  revenueFixedMinor: number;
  revenueFeesMinor?: number;
  billedMinor: number;
  paymentsMinor: number;
  dueMinor: number;
  collectedMinor: number;
  arrearsMinor: number;
  customersInArrears: number;
  collectionRate: number | null;
}
export interface NewCustomer {
  id: string;
  name: string;
  phone: string;
  tariffId: string;
  mode: 'prepaid' | 'postpaid';
  meter?: string;
}

const c = (id: string): string => `/api/customers/${encodeURIComponent(id)}`;

export const billingApi = {
  customers: () => request<{ customers: Customer[] }>('GET', '/api/customers'),
  customer: (id: string) => request<CustomerView>('GET', c(id)),
  createCustomer: (n: NewCustomer) => request<CustomerView>('POST', '/api/customers', n),
  statement: (id: string, from: number, to: number) => request<Statement>('GET', `${c(id)}/statement?${q({ from, to })}`),
  payments: (account: string) => request<{ payments: Payment[] }>('GET', `/api/payments?${q({ account })}`),
  quote: (amountMinor: number, currency: string, account?: string) =>
    request<Quote>('POST', '/api/payments/quote', { provider: 'cash', amountMinor, currency, ...(account ? { account } : {}) }),
  cash: (account: string, amountMinor: number, currency: string, receipt: string) =>
    request<{ payment: Payment }>('POST', '/api/payments/cash', { account, amountMinor, currency, receipt }),
  invoice: (id: string, month: string) => request<{ invoice: { id: number; month: string; totalMinor: number } }>('POST', `${c(id)}/invoices/${month}`),
  invoiceUrl: (id: number, kind: 'csv' | 'pdf') => `/api/invoices/${id}.${kind}`,
  proposals: (state?: string) => request<{ proposals: Proposal[] }>('GET', `/api/proposals${state ? `?${q({ state })}` : ''}`),
  approve: (id: number) => request<{ proposal: Proposal }>('POST', `/api/proposals/${id}/approve`),
  reject: (id: number, reason: string) => request<{ proposal: Proposal }>('POST', `/api/proposals/${id}/reject`, { reason }),
  audit: (from: number) => request<{ entries: AuditEntry[] }>('GET', `/api/audit?${q({ from })}`),
  tariffs: () => request<{ tariffs: Tariff[] }>('GET', '/api/tariffs'),
  saveTariff: (t: unknown) => request<{ tariff: Tariff }>('POST', '/api/tariffs', t),
  dashboard: () => request<{ sites: SiteDashboard[] }>('GET', '/api/billing/dashboard'),
};

const fmts = new Map<string, Intl.NumberFormat>();
function fmt(currency: string): Intl.NumberFormat {
  let f = fmts.get(currency);
  if (!f) {
    try {
      f = new Intl.NumberFormat('en', { style: 'currency', currency, currencyDisplay: 'code' });
    } catch {
      f = new Intl.NumberFormat('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    }
    fmts.set(currency, f);
  }
  return f;
}

/** Decimal places of a currency's minor unit (UGX 0, KES 2). */
export const minorDigits = (currency: string): number => fmt(currency).resolvedOptions().maximumFractionDigits ?? 2;

/** "UGX 12,500": minor units shown in the currency's own way. */
export function money(minor: number | null | undefined, currency: string): string {
  if (minor === null || minor === undefined || !Number.isFinite(minor)) return '—';
  return fmt(currency)
    .format(minor / 10 ** minorDigits(currency))
    .replace(/\u00a0/g, ' ');
}

/** What an operator types ("12500" or "12.50") in minor units, or null when it is not an amount. */
export function parseMoney(text: string, currency: string): number | null {
  const t = text.replace(/[,\s]/g, '');
  if (!/^\d+(\.\d+)?$/.test(t)) return null;
  const v = Math.round(Number(t) * 10 ** minorDigits(currency));
  return v > 0 && Number.isSafeInteger(v) ? v : null;
}

/** A customer's standing, from their side: prepaid credit is positive, postpaid debt negative. */
export const standing = (v: Pick<CustomerView, 'balanceMinor'>): number => -v.balanceMinor || 0;
