import { ACCOUNTS, type EntryLine, type Ledger } from './ledger.js';
import { minor } from './money.js';
import type { BillLine } from './rating.js';

/** A tax's payable account: VAT -> tax:vat-payable, "Excise duty" -> tax:excise-duty-payable. */
export const taxAccount = (taxName: string): string =>
  `tax:${taxName
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')}-payable`;

function accountOf(line: BillLine): string {
  if (line.kind === 'energy') return ACCOUNTS.revenueEnergy;
  if (line.kind === 'fixed') return ACCOUNTS.revenueFixed;
  if (line.kind === 'fee') return ACCOUNTS.revenueFees;
  return taxAccount(line.taxName ?? 'tax');
}

/**
 * Ledger lines for charging bill lines to a customer: the customer is debited the total (less prepaid
 * credit, or more receivable), revenue and tax payable are credited per account. Always balanced.
 */
export function chargeEntries(ledger: Ledger, customerAccount: string, lines: readonly BillLine[]): EntryLine[] {
  const per = new Map<string, number>();
  let total = 0;
  for (const l of lines) {
    const acc = accountOf(l);
    per.set(acc, (per.get(acc) ?? 0) - l.amountMinor);
    total += l.amountMinor;
  }
  const out: EntryLine[] = [{ account: customerAccount, amountMinor: minor(total) }];
  for (const [account, amount] of [...per.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (amount === 0) continue;
    ledger.openAccount(account, account.startsWith('tax:') ? 'liability' : 'revenue');
    out.push({ account, amountMinor: minor(amount) });
  }
  return out;
}
