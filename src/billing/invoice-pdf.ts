import PDFDocument from 'pdfkit';
import type { StoreDb } from '../store/database.js';
import { LocalCalendar } from './calendar.js';
import { consumptionOf, getCustomer } from './customers.js';
import { ACCOUNTS, type Ledger } from './ledger.js';
import { formatMinor, minor, negate, type Minor } from './money.js';
import { formatPrice } from './price.js';
import type { Invoice } from './postpaid.js';

/** Everything an invoice page shows; built from the database by invoicePdfInput, or by hand in tests. */
export interface InvoicePdfInput {
  readonly invoice: Invoice;
  /** Operator or site name printed in the header. */
  readonly siteName: string;
  readonly timeZone: string;
  readonly customer: { readonly id: string; readonly name: string; readonly phone: string };
  readonly account: string;
  /** Consumption per meter in the invoiced month (within the meter's assignment). */
  readonly meters: ReadonlyArray<{ readonly meterKey: string; readonly kWh: number; readonly intervals: number }>;
  /** Payments allocated to this invoice. */
  readonly payments: ReadonlyArray<{ readonly ref: string; readonly amountMinor: Minor }>;
  /** The customer's account balance (debit positive: what the customer owes) when the PDF is made. */
  readonly accountBalanceMinor: Minor;
  readonly printedMs: number;
}

/** Gathers the page's data: customer, per-meter consumption, allocated payments, account balance. */
export function invoicePdfInput(db: StoreDb, ledger: Ledger, inv: Invoice, o: { siteName: string; timeZone: string; nowMs: number }): InvoicePdfInput {
  const c = getCustomer(db, inv.customerId);
  const [fromMs, toMs] = LocalCalendar.for(o.timeZone).monthRange(inv.month);
  const perMeter = new Map<string, { kWh: number; intervals: number }>();
  for (const i of consumptionOf(db, inv.customerId, fromMs, toMs)) {
    const m = perMeter.get(i.meterKey) ?? { kWh: 0, intervals: 0 };
    m.kWh += i.kWh;
    m.intervals += 1;
    perMeter.set(i.meterKey, m);
  }
  const payments = db
    .prepare<[number], { payment_ref: string; amount: number }>('SELECT payment_ref, amount FROM billing_allocations WHERE invoice_id = ? ORDER BY rowid')
    .all(inv.id)
    .map((r) => ({ ref: r.payment_ref, amountMinor: minor(r.amount) }));
  const account = ACCOUNTS.customer(inv.customerId);
  return {
    invoice: inv,
    siteName: o.siteName,
    timeZone: o.timeZone,
    customer: { id: inv.customerId, name: c?.name ?? inv.customerId, phone: c?.phone ?? '' },
    account,
    meters: [...perMeter.entries()].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true })).map(([meterKey, m]) => ({ meterKey, ...m })),
    payments,
    accountBalanceMinor: ledger.balance(account, o.nowMs + 1),
    printedMs: o.nowMs,
  };
}

const A4 = { w: 595.28, h: 841.89 };
const M = 50;
const GREY = '#555555';
const RULE = '#999999';

function localDate(ms: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, day: '2-digit', month: 'short', year: 'numeric' }).format(new Date(ms));
}
function monthName(ym: string): string {
  const [y, m] = ym.split('-').map(Number);
  return new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', month: 'long', year: 'numeric' }).format(new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, 15)));
}
const kwh = (x: number): string => x.toLocaleString('en-US', { minimumFractionDigits: 3, maximumFractionDigits: 3 });

/**
 * The invoice as a one-page A4 PDF in Helvetica (no font files). The document is ended before it is
 * returned: pipe it (an HTTP reply, a file) and the bytes flow. compress: false keeps the text
 * readable in the raw bytes (tests).
 */
export function invoicePdf(d: InvoicePdfInput, opts: { compress?: boolean } = {}): PDFKit.PDFDocument {
  const inv = d.invoice;
  const cur = inv.bill.currency;
  const money = (m: number): string => formatMinor(minor(m), cur);
  const doc = new PDFDocument({
    size: 'A4',
    margin: M,
    compress: opts.compress ?? true,
    info: { Title: `Invoice ${inv.id} ${inv.month}`, Author: d.siteName, Subject: `${d.customer.name} ${inv.month}` },
  });
  const right = A4.w - M;
  const width = right - M;

  // Header: operator and the invoice's identity.
  doc
    .font('Helvetica-Bold')
    .fontSize(18)
    .fillColor('black')
    .text(d.siteName, M, M, { width: width * 0.6 });
  doc
    .font('Helvetica')
    .fontSize(9)
    .fillColor(GREY)
    .text('Electricity invoice', M, doc.y + 2);
  doc.font('Helvetica-Bold').fontSize(20).fillColor('black').text('INVOICE', M, M, { width, align: 'right' });
  doc.font('Helvetica').fontSize(10);
  const idRows: Array<[string, string]> = [
    ['Invoice no.', String(inv.id).padStart(6, '0')],
    ['Billing month', monthName(inv.month)],
    ['Issued', localDate(inv.issuedMs, d.timeZone)],
  ];
  let y = M + 28;
  for (const [k, v] of idRows) {
    doc.fillColor(GREY).text(k, right - 220, y, { width: 100 });
    doc.fillColor('black').text(v, right - 120, y, { width: 120, align: 'right' });
    y += 14;
  }
  y = Math.max(y, doc.y) + 14;
  doc.moveTo(M, y).lineTo(right, y).lineWidth(1).strokeColor('black').stroke();
  y += 12;

  // Bill to / account.
  doc.font('Helvetica-Bold').fontSize(9).fillColor(GREY).text('BILL TO', M, y);
  doc.text('ACCOUNT', M + width / 2, y);
  y += 13;
  doc
    .font('Helvetica-Bold')
    .fontSize(11)
    .fillColor('black')
    .text(d.customer.name, M, y, { width: width / 2 - 10 });
  doc
    .font('Helvetica')
    .fontSize(10)
    .text(d.account, M + width / 2, y);
  y += 15;
  doc
    .font('Helvetica')
    .fontSize(10)
    .text(d.customer.phone || '-', M, y);
  doc.fillColor(GREY).text(`Customer id ${d.customer.id}`, M + width / 2, y);
  y += 26;

  // Meters.
  const th = (cols: Array<[string, number, number, 'left' | 'right']>): void => {
    doc
      .rect(M, y - 4, width, 18)
      .fillColor('#eeeeee')
      .fill();
    doc.font('Helvetica-Bold').fontSize(9).fillColor('black');
    for (const [t, x, w, align] of cols) doc.text(t, x, y, { width: w, align });
    y += 18;
    doc.font('Helvetica').fontSize(9.5);
  };
  doc.font('Helvetica-Bold').fontSize(11).fillColor('black').text('Metered consumption', M, y);
  y += 18;
  th([
    ['Meter', M + 6, 160, 'left'],
    ['15-min intervals', M + 200, 120, 'right'],
    ['Consumption (kWh)', right - 166, 160, 'right'],
  ]);
  let totalKWh = 0;
  for (const m of d.meters) {
    doc.text(m.meterKey, M + 6, y, { width: 160 });
    doc.text(String(m.intervals), M + 200, y, { width: 120, align: 'right' });
    doc.text(kwh(m.kWh), right - 166, y, { width: 160, align: 'right' });
    totalKWh += m.kWh;
    y += 15;
  }
  if (d.meters.length === 0) {
    doc.fillColor(GREY).text('No metered consumption in this month.', M + 6, y);
    doc.fillColor('black');
    y += 15;
  }
  doc.moveTo(M, y).lineTo(right, y).lineWidth(0.5).strokeColor(RULE).stroke();
  y += 5;
  doc
    .font('Helvetica-Bold')
    .text('Total', M + 6, y)
    .text(kwh(totalKWh), right - 166, y, { width: 160, align: 'right' });
  y += 28;

  // Charges, line by line as the rating explains them.
  doc.font('Helvetica-Bold').fontSize(11).text('Charges', M, y);
  y += 18;
  const cQty = M + 235;
  const cPrice = M + 305;
  const cAmt = right - 95;
  const descW = 222;
  th([
    ['Description', M + 6, descW, 'left'],
    ['kWh', cQty, 65, 'right'],
    [`Price (${cur})`, cPrice, 85, 'right'],
    [`Amount (${cur})`, cAmt, 89, 'right'],
  ]);
  const amountOnly = (m: number): string => money(m).slice(cur.length + 1);
  for (const l of inv.bill.lines) {
    const desc = `${l.description}${inv.bill.lines.some((o) => o.tariffVersion !== l.tariffVersion) ? ` (tariff v${l.tariffVersion})` : ''}`;
    const h = doc.heightOfString(desc, { width: descW });
    doc.text(desc, M + 6, y, { width: descW });
    if (l.quantityKWh !== undefined) doc.text(kwh(l.quantityKWh), cQty, y, { width: 65, align: 'right' });
    if (l.unitPrice !== undefined) doc.text(formatPrice(l.unitPrice, cur).replace(` ${cur}/kWh`, '/kWh'), cPrice, y, { width: 85, align: 'right' });
    doc.text(amountOnly(l.amountMinor), cAmt, y, { width: 89, align: 'right' });
    y += Math.max(15, h + 4);
  }
  doc.moveTo(M, y).lineTo(right, y).lineWidth(0.5).strokeColor(RULE).stroke();
  y += 8;

  // Totals box.
  const paid = d.payments.reduce((s, p) => s + p.amountMinor, 0);
  const due = inv.totalMinor - paid;
  const totals: Array<[string, string, boolean]> = [
    ['Invoice total', money(inv.totalMinor), false],
    ['Payments allocated', paid === 0 ? money(0) : `- ${money(paid)}`, false],
    ['Amount due', money(due), true],
  ];
  for (const [k, v, strong] of totals) {
    if (strong) {
      doc
        .rect(right - 250, y - 5, 250, 22)
        .fillColor('#eeeeee')
        .fill();
      doc.font('Helvetica-Bold').fontSize(12);
    } else doc.font('Helvetica').fontSize(10);
    doc
      .fillColor('black')
      .text(k, right - 244, y, { width: 120 })
      .text(v, right - 130, y, { width: 124, align: 'right' });
    y += strong ? 26 : 16;
  }
  y += 10;

  // Payments allocated to this invoice.
  doc.font('Helvetica-Bold').fontSize(11).text('Payments allocated to this invoice', M, y);
  y += 16;
  doc.font('Helvetica').fontSize(9.5);
  if (d.payments.length === 0) {
    doc.fillColor(GREY).text('None yet.', M + 6, y);
    y += 15;
  }
  for (const p of d.payments) {
    doc
      .fillColor('black')
      .text(p.ref, M + 6, y, { width: 300 })
      .text(money(p.amountMinor), right - 206, y, { width: 200, align: 'right' });
    y += 14;
  }
  y += 10;
  const bal = d.accountBalanceMinor;
  doc
    .font('Helvetica-Bold')
    .fontSize(10)
    .fillColor('black')
    .text(`Account balance on ${localDate(d.printedMs, d.timeZone)}`, M, y, { width: 300 })
    .text(bal > 0 ? `${money(bal)} owed` : bal < 0 ? `${money(negate(bal))} in credit` : money(0), right - 206, y, { width: 200, align: 'right' });

  // Footer.
  doc
    .font('Helvetica')
    .fontSize(8)
    .fillColor(GREY)
    .text(
      `Amounts in ${cur}. Consumption is rated per 15-minute interval with the tariff version in force; each line is rounded once. ` +
        `Please quote invoice no. ${String(inv.id).padStart(6, '0')} and account ${d.account} with your payment.`,
      M,
      A4.h - M - 30,
      { width, align: 'center', lineBreak: true },
    );
  doc.end();
  return doc;
}

/** The whole PDF in memory. */
export function invoicePdfBuffer(d: InvoicePdfInput, opts: { compress?: boolean } = {}): Promise<Buffer> {
  const doc = invoicePdf(d, opts);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
}
