import type Database from 'better-sqlite3';
import { listAudit, verifyAuditChain, type AuditEntry, type AuditVerification } from './audit-log.js';

export interface AuditPageQuery {
  readonly from?: number;
  readonly to?: number;
  /** The next page back: entries before this id. */
  readonly beforeId?: number;
  /** Walk the whole hash chain too. */
  readonly verify?: boolean;
  readonly limit: number;
}

export interface AuditPage {
  readonly entries: AuditEntry[];
  readonly total: number;
  readonly before: number;
  readonly verification?: AuditVerification;
}

/**
 * One page of the audit log, newest `limit` entries of from <= ts < to (before `beforeId`), with the
 * chain's verification when asked. A month of actuations is tens of thousands of entries and the
 * verification hashes each: the read worker runs this, not the request thread (api/read-worker.ts).
 */
export function auditPage(db: Database.Database, q: AuditPageQuery): AuditPage {
  const all = listAudit(db, { from: q.from, to: q.to });
  const before = q.beforeId;
  const entries = before === undefined ? all : all.filter((e) => e.id < before);
  return {
    entries: entries.slice(-q.limit),
    total: all.length,
    before: entries.length,
    ...(q.verify ? { verification: verifyAuditChain(db) } : {}),
  };
}
