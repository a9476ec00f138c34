/** Billing: money, tariffs, rating, the ledger, customers, prepaid charging and postpaid invoices. */
export * from './money.js';
export * from './price.js';
export * from './tariff.js';
export * from './tariff-store.js';
export * from './rating.js';
export * from './ledger.js';
export * from './customers.js';
export * from './prepaid-charging.js';
export * from './postpaid.js';
export * from './invoice-csv.js';
