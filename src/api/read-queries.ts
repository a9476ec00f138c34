import { invoicePdfBuffer, type InvoicePdfInput } from '../billing/invoice-pdf.js';
import { fleetStoreFigures } from '../fleet/routes.js';
import { listAudit } from '../governance/audit-log.js';
import { auditPage, type AuditPageQuery } from '../governance/audit-page.js';
import type { StoreDb } from '../store/database.js';
import { historyQueries, type HistoryQueries } from '../store/history-queries.js';

/**
 * Everything the read worker answers (read-worker.ts): the history queries and the other requests
 * whose synchronous work held the event loop that runs the edge cycle, the bus and the recorder for
 * tens to hundreds of ms at a site's sizes (bench/route-blocking.ts): the fleet view's store figures,
 * the audit log's pages and chain verification, and invoice PDFs. Each returns its response body.
 */
export type ReadQueries = HistoryQueries & {
  readonly fleet: (keys: readonly string[], nowMs: number, pollMs: number, timeZone: string) => string;
  readonly auditPage: (q: AuditPageQuery) => string;
  readonly auditList: (from: number | undefined, to: number | undefined) => string;
  readonly invoicePdf: (input: InvoicePdfInput) => Promise<Uint8Array>;
};

export function readQueries(db: StoreDb): ReadQueries {
  return {
    ...historyQueries(db),
    fleet: (keys, nowMs, pollMs, timeZone) => JSON.stringify(fleetStoreFigures(db, keys, nowMs, pollMs, timeZone)),
    auditPage: (q) => JSON.stringify(auditPage(db, q)),
    auditList: (from, to) => JSON.stringify({ entries: listAudit(db, { from, to }) }),
    invoicePdf: (input) => invoicePdfBuffer(input),
  };
}
