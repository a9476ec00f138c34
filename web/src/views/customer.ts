import { ApiError } from '../api.js';
import { siteNow } from '../clock.js';
import { billingApi, money, parseMoney, standing, type CustomerView, type Quote } from '../billing-api.js';
import { h } from '../dom.js';
import { capitalise, dateOnly, dateTime } from '../format.js';
import { can } from '../roles.js';
import { href } from '../router.js';
import { h as jsx } from 'preact';
import { island } from '../ui/load.js';
import { field } from './form.js';
import { SupplyControls } from './supply.js';
import { errorBox, loading, successBox } from './notice.js';
import { listTable } from './table.js';
import type { Ctx, View } from './view.js';

const DAY = 86_400_000;

/** One customer: balance, meters, statement, payments, invoices; operators record cash and invoice months. */
export function customerView(ctx: Ctx, id: string): View {
  const tz = ctx.site.timezone;
  const body = h('div', { class: 'stack' }, loading());
  const el = h(
    'div',
    { class: 'page', 'data-testid': 'customer-page', 'data-id': id },
    h('p', {}, h('a', { href: href({ page: 'billing' }) }, '← All customers')),
    body,
  );
  // The supply card is a component kept across re-renders of the page (its messages stay).
  const supplyHost = h('div', { 'data-testid': 'supply-host' });
  island(supplyHost, jsx(SupplyControls, { customer: id, operator: can(ctx.user, 'operator'), tz }), ctx.scope);
  let pdf: boolean | null = null;
  /** A message to show once above the re-rendered page (a payment recorded). */
  let flash: HTMLElement | null = null;

  function load(): void {
    void ctx.scope.load(
      Promise.all([billingApi.customer(id), hasPdf()]),
      body,
      ([v]) => {
        const nodes = [...(flash ? [flash] : []), ...render(v)];
        flash = null;
        return nodes;
      },
      { key: 'customer', loading: false },
    );
  }

  /** Whether the controller renders invoices as PDF (a HEAD-less probe: a 404 "no route" means no). */
  async function hasPdf(): Promise<void> {
    if (pdf !== null) return;
    try {
      const r = await fetch(billingApi.invoiceUrl(0, 'pdf'), { credentials: 'same-origin' });
      const t = await r.text();
      pdf = !(r.status === 404 && /no route|expected <invoice id>\.csv/.test(t)) && r.status !== 400;
    } catch {
      pdf = false;
    }
  }

  function render(v: CustomerView): HTMLElement[] {
    const c = v.customer;
    const bal = standing(v);
    return [
      h('h1', {}, c.name, ' ', h('small', {}, c.id)),
      h(
        'section',
        { class: 'card' },
        h(
          'dl',
          { class: 'figures' },
          fig(
            c.mode === 'prepaid' ? 'Credit' : 'Balance',
            h('span', { 'data-testid': 'balance', class: bal < 0 ? 'warn-text' : null }, money(bal, v.currency)),
          ),
          v.availableCreditMinor !== null
            ? fig('Available now', h('span', { 'data-testid': 'available-credit' }, money(v.availableCreditMinor, v.currency)))
            : null,
          fig('Mode', capitalise(c.mode)),
          fig('Tariff', c.tariffId),
          fig('Phone', c.phone),
          fig(
            'Meters',
            h(
              'span',
              { 'data-testid': 'customer-meters' },
              ...v.meters
                .filter((m) => m.toMs === null)
                .flatMap((m, i) => [i ? ', ' : '', h('a', { href: href({ page: 'meter', key: m.meterKey }) }, m.meterKey)]),
            ),
          ),
        ),
      ),
      supplyHost,
      can(ctx.user, 'operator') ? cashForm(v) : null,
      invoices(v),
      statement(v),
      payments(v),
    ].filter((x): x is HTMLElement => x !== null);
  }

  function cashForm(v: CustomerView): HTMLElement {
    const amount = field(
      `Amount (${v.currency})`,
      h('input', { id: 'cash-amount', inputmode: 'decimal', autocomplete: 'off', required: true, 'data-testid': 'cash-amount' }),
    );
    const receipt = field(
      'Receipt number',
      h('input', { id: 'cash-receipt', autocomplete: 'off', required: true, minlength: 3, maxlength: 40, 'data-testid': 'cash-receipt' }),
    );
    const quoteBox = h('div', { 'aria-live': 'polite', 'data-testid': 'cash-quote' });
    const msg = h('div', { 'aria-live': 'polite' });
    const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'cash-submit' }, 'Show quote');
    let quoted: { minor: number; receipt: string; q: Quote } | null = null;
    const reset = (): void => {
      quoted = null;
      quoteBox.replaceChildren();
      submit.textContent = 'Show quote';
    };
    amount.control.addEventListener('input', reset);
    receipt.control.addEventListener('input', () => quoted && (quoted = { ...quoted, receipt: receipt.control.value.trim() }));
    const form = h(
      'form',
      { class: 'card form', 'aria-labelledby': 'cash-title', 'data-testid': 'cash-form' },
      h('h2', { id: 'cash-title' }, 'Record cash payment'),
      h('div', { class: 'form-row' }, amount.el, receipt.el),
      quoteBox,
      h('div', { class: 'actions' }, submit),
      msg,
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      msg.replaceChildren();
      amount.error(null);
      receipt.error(null);
      const minor = parseMoney(amount.control.value, v.currency);
      if (minor === null) {
        amount.error('Enter an amount above zero');
        return;
      }
      const rc = receipt.control.value.trim();
      if (rc.length < 3) {
        receipt.error('The receipt number has at least 3 characters');
        return;
      }
      submit.disabled = true;
      if (!quoted || quoted.minor !== minor) {
        billingApi
          .quote(minor, v.currency, id)
          .then((q) => {
            quoted = { minor, receipt: rc, q };
            quoteBox.replaceChildren(
              h(
                'dl',
                { class: 'figures' },
                fig('Amount', money(q.amountMinor, v.currency)),
                fig('Fee', money(q.feeMinor, v.currency)),
                fig('Credit', h('strong', { 'data-testid': 'quote-credit' }, money(q.creditMinor, v.currency))),
                q.energyKwh !== null ? fig('Energy', `${q.energyKwh.toFixed(1)} kWh`) : null,
              ),
            );
            submit.textContent = 'Record payment';
          })
          .catch((err: unknown) => msg.replaceChildren(errorBox(err, 'cash-error')))
          .finally(() => (submit.disabled = false));
        return;
      }
      billingApi
        .cash(v.account, minor, v.currency, rc)
        .then((r) => {
          flash = successBox('cash-done', `Recorded ${money(r.payment.amountMinor, v.currency)} cash, receipt ${rc}`);
          load();
        })
        .catch((err: unknown) => {
          if (err instanceof ApiError && err.status === 409) receipt.error(err.message);
          else msg.replaceChildren(errorBox(err, 'cash-error'));
        })
        .finally(() => (submit.disabled = false));
    });
    return form;
  }

  function invoices(v: CustomerView): HTMLElement | null {
    if (v.customer.mode !== 'postpaid') return null;
    const list =
      v.openInvoices.length === 0
        ? h('p', { class: 'hint' }, 'No open invoices.')
        : listTable(
            {
              caption: 'Open invoices',
              testId: 'invoices',
              columns: [
                { label: 'Month', cell: (i) => i.month },
                { label: 'Total', num: true, cell: (i) => money(i.totalMinor, v.currency) },
                { label: 'Open', num: true, cell: (i) => money(i.openMinor, v.currency) },
                {
                  label: 'Download',
                  cell: (i) => [
                    h('a', { href: billingApi.invoiceUrl(i.id, 'csv'), download: `invoice-${i.id}.csv`, 'data-testid': 'invoice-csv' }, 'CSV'),
                    pdf ? ' · ' : null,
                    pdf ? h('a', { href: billingApi.invoiceUrl(i.id, 'pdf'), download: `invoice-${i.id}.pdf`, 'data-testid': 'invoice-pdf' }, 'PDF') : null,
                  ],
                },
              ],
              rowAttrs: (i) => ({ 'data-testid': 'invoice-row', 'data-id': i.id }),
            },
            v.openInvoices,
          ).el;
    const section = h(
      'section',
      { 'aria-labelledby': 'invoices-title', 'data-testid': 'invoices-section' },
      h('h2', { id: 'invoices-title' }, 'Invoices'),
      list,
    );
    if (can(ctx.user, 'operator')) {
      const month = field('Month', h('input', { id: 'invoice-month', type: 'month', 'data-testid': 'invoice-month', value: lastMonth(tz) }));
      const msg = h('div', { 'aria-live': 'polite' });
      const go = h('button', { type: 'submit', class: 'secondary', 'data-testid': 'invoice-create' }, 'Create invoice for month');
      const form = h('form', { class: 'form-row', 'data-testid': 'invoice-form' }, month.el, h('div', { class: 'actions' }, go), msg);
      form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        go.disabled = true;
        billingApi
          .invoice(v.customer.id, month.control.value)
          .then(load)
          .catch((err: unknown) => {
            go.disabled = false;
            msg.replaceChildren(errorBox(err, 'invoice-error'));
          });
      });
      section.append(form);
    }
    return section;
  }

  function statement(v: CustomerView): HTMLElement {
    const to = h('input', { id: 'st-to', type: 'date', value: dateOnly(siteNow(), tz), 'data-testid': 'statement-to' });
    const from = h('input', { id: 'st-from', type: 'date', value: dateOnly(siteNow() - 30 * DAY, tz), 'data-testid': 'statement-from' });
    const out = h('div', {}, loading());
    const show = (): void => {
      const f = Date.parse(`${from.value}T00:00:00Z`);
      const t = Date.parse(`${to.value}T00:00:00Z`) + DAY;
      if (!Number.isFinite(f) || !Number.isFinite(t)) return;
      billingApi
        .statement(v.customer.id, f, t)
        .then((s) => {
          const sign = (n: number): number => -n || 0;
          out.replaceChildren(
            h('p', { class: 'hint' }, `Opening ${money(sign(s.openingMinor), s.currency)} · closing ${money(sign(s.closingMinor), s.currency)}`),
            s.rows.length === 0
              ? h('p', { class: 'hint' }, 'Nothing in this period.')
              : listTable(
                  {
                    caption: 'Statement',
                    testId: 'statement',
                    columns: [
                      { label: 'When', cell: (r) => dateTime(r.atMs, tz) },
                      // In words (site time zone), as the server describes it; the machine reference only when it has none.
                      { label: 'What', cell: (r) => [r.description ?? `${capitalise(r.kind)} ${r.reference}`, h('small', {}, capitalise(r.kind))] },
                      {
                        label: 'Energy',
                        num: true,
                        cell: (r) =>
                          r.energyKWh === null || r.energyKWh === undefined ? null : h('span', { class: 'stmt-energy' }, `${kwh(r.energyKWh)} kWh`),
                      },
                      { label: 'Amount', num: true, cell: (r) => money(sign(r.amountMinor), s.currency) },
                      { label: 'Balance', num: true, cell: (r) => money(sign(r.balanceMinor), s.currency) },
                    ],
                    rowAttrs: (r) => ({ 'data-testid': 'statement-row', 'data-kind': r.kind }),
                  },
                  [...s.rows].reverse(),
                ).el,
          );
        })
        .catch((err: unknown) => out.replaceChildren(errorBox(err)));
    };
    from.addEventListener('change', show);
    to.addEventListener('change', show);
    show();
    return h(
      'section',
      { 'aria-labelledby': 'statement-title' },
      h('h2', { id: 'statement-title' }, 'Statement'),
      h(
        'div',
        { class: 'filters' },
        h('div', { class: 'field' }, h('label', { for: 'st-from' }, 'From'), from),
        h('div', { class: 'field' }, h('label', { for: 'st-to' }, 'To'), to),
      ),
      out,
    );
  }

  function payments(v: CustomerView): HTMLElement {
    const out = h('div', {}, loading());
    billingApi
      .payments(v.account)
      .then((r) =>
        out.replaceChildren(
          r.payments.length === 0
            ? h('p', { class: 'hint' }, 'No payments yet.')
            : listTable(
                {
                  caption: 'Payments',
                  testId: 'payments',
                  columns: [
                    { label: 'When', cell: (p) => dateTime(p.createdMs, tz) },
                    { label: 'How', cell: (p) => [capitalise(p.provider), ' ', h('small', {}, p.providerTxId ?? '')] },
                    { label: 'Amount', num: true, cell: (p) => money(p.amountMinor, p.currency) },
                    { label: 'State', cell: (p) => capitalise(p.state) },
                  ],
                  rowAttrs: () => ({ 'data-testid': 'payment-row' }),
                },
                r.payments,
              ).el,
        ),
      )
      .catch((err: unknown) => out.replaceChildren(errorBox(err)));
    return h('section', { 'aria-labelledby': 'payments-title' }, h('h2', { id: 'payments-title' }, 'Payments'), out);
  }

  load();
  return { el };
}

function lastMonth(tz: string): string {
  const [y = 2000, m = 1] = dateOnly(siteNow(), tz).split('-').map(Number);
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

const kwh = (x: number): string => (x >= 10 ? x.toFixed(1) : x.toFixed(2));

const fig = (term: string, value: HTMLElement | string): HTMLElement => h('div', {}, h('dt', {}, term), h('dd', {}, value));
