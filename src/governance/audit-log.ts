import type Database from 'better-sqlite3';

export interface AuditEntry {
  readonly id: number;
  readonly ts: number;
  /** Who: 'system' or a username. */
  readonly actor: string;
  /** What: proposed, approved, rejected, refused, expired, withdrawn, relay-opened, relay-closed, relay-failed, relay-refused, override, autonomy. */
  readonly action: string;
  readonly proposalId: number | null;
  readonly customer: string | null;
  readonly meter: number | null;
  /** Why, or the relay read-back. */
  readonly detail: string;
}

export type AuditInput = Omit<AuditEntry, 'id' | 'proposalId' | 'customer' | 'meter'> & Partial<Pick<AuditEntry, 'proposalId' | 'customer' | 'meter'>>;

/**
 * The governance audit trail. Append-only is enforced by the database itself: triggers refuse
 * UPDATE and DELETE, so no code path can rewrite what happened.
 */
export class AuditLog {
  constructor(private readonly db: Database.Database) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS governance_audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ts INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
        proposal_id INTEGER, customer TEXT, meter INTEGER, detail TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS governance_audit_ts ON governance_audit (ts);
      CREATE TRIGGER IF NOT EXISTS governance_audit_no_update BEFORE UPDATE ON governance_audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
      CREATE TRIGGER IF NOT EXISTS governance_audit_no_delete BEFORE DELETE ON governance_audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;`);
  }

  append(e: AuditInput): number {
    return Number(
      this.db
        .prepare('INSERT INTO governance_audit (ts, actor, action, proposal_id, customer, meter, detail) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(e.ts, e.actor, e.action, e.proposalId ?? null, e.customer ?? null, e.meter ?? null, e.detail).lastInsertRowid,
    );
  }

  /** The newest entry of a meter with one of these actions (e.g. the last relay switch), if any. */
  lastFor(meter: number, actions: readonly string[]): AuditEntry | undefined {
    return this.db
      .prepare<unknown[], AuditEntry>(`SELECT id, ts, actor, action, proposal_id AS proposalId, customer, meter, detail FROM governance_audit WHERE meter = ? AND action IN (${actions.map(() => '?').join(',')}) ORDER BY id DESC LIMIT 1`)
      .get(meter, ...actions);
  }

  /** Entries with from <= ts < to, oldest first. */
  list(range: { from?: number; to?: number } = {}): AuditEntry[] {
    return this.db
      .prepare<[number, number], AuditEntry>('SELECT id, ts, actor, action, proposal_id AS proposalId, customer, meter, detail FROM governance_audit WHERE ts >= ? AND ts < ? ORDER BY id')
      .all(range.from ?? 0, range.to ?? Number.MAX_SAFE_INTEGER);
  }
}
