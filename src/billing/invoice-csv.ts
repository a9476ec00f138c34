import { formatMinor, minor } from './money.js';
import { formatPrice } from './price.js';
import type { Invoice } from './postpaid.js';
import { csvCell as cell } from '../util/csv.js';

/** Amount in major units without the currency code, e.g. 257.55. */
const major = (m: number, inv: Invoice): string => formatMinor(minor(m), inv.bill.currency).split(' ')[1]?.replace(/,/g, '') ?? '';

/** One row per bill line and a total row; amounts in major units of the invoice currency. */
export function invoiceCsv(inv: Invoice): string {
  const rows = [['invoice', 'customer', 'month', 'kind', 'description', 'quantity_kwh', 'unit_price', 'tariff_version', 'amount', 'currency']];
  for (const l of inv.bill.lines) {
    rows.push([
      String(inv.id),
      inv.customerId,
      inv.month,
      l.kind,
      l.description,
      l.quantityKWh === undefined ? '' : l.quantityKWh.toFixed(6),
      l.unitPrice === undefined ? '' : (formatPrice(l.unitPrice, inv.bill.currency).split(' ')[0] ?? ''),
      String(l.tariffVersion),
      major(l.amountMinor, inv),
      inv.bill.currency,
    ]);
  }
  rows.push([String(inv.id), inv.customerId, inv.month, 'total', 'Total', '', '', '', major(inv.totalMinor, inv), inv.bill.currency]);
  return rows.map((r) => r.map(cell).join(',')).join('\n') + '\n';
}
