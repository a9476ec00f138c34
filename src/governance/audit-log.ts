import { createHash } from 'node:crypto';
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

/** What verify() found: the whole chain intact, or the first entry where it breaks and why. */
export type AuditVerification =
  | { readonly ok: true; readonly entries: number; readonly head: string }
  | { readonly ok: false; readonly entries: number; readonly at: number; readonly why: string };

const GENESIS = '';

/** SHA-256 over the previous entry's hash and every field of this one (id included, so entries cannot be reordered). */
export function entryHash(prevHash: string, e: AuditEntry): string {
  return createHash('sha256')
    .update(JSON.stringify([prevHash, e.id, e.ts, e.actor, e.action, e.proposalId, e.customer, e.meter, e.detail]))
    .digest('hex');
}

const COLUMNS = 'id, ts, actor, action, proposal_id AS proposalId, customer, meter, detail';

/**
 * The governance audit trail. Append-only is enforced by the database itself: triggers refuse
 * UPDATE and DELETE, so no code path can rewrite what happened. The entries are hash-chained
 * (schema migration 3): each stores the hash of the one before, so verify() detects an entry edited
 * or deleted behind the triggers' back (someone with the file and sqlite3). A chain kept only in the
 * same file can still be rewritten whole from the edited entry on; anchoring the head hash outside
 * the file (uplink, a printed report) is what closes that, and is not done yet.
 */
export class AuditLog {
  constructor(readonly db: Database.Database) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS governance_audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ts INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
        proposal_id INTEGER, customer TEXT, meter INTEGER, detail TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS governance_audit_ts ON governance_audit (ts);
      -- lastFor (is this meter's relay open?) on every supply request and gate check: without it a
      -- scan of the whole log, 9 ms per call with a month of control audit (86k entries), 0.02 ms with it.
      CREATE INDEX IF NOT EXISTS governance_audit_meter ON governance_audit (meter, id);
      CREATE TRIGGER IF NOT EXISTS governance_audit_no_update BEFORE UPDATE ON governance_audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
      CREATE TRIGGER IF NOT EXISTS governance_audit_no_delete BEFORE DELETE ON governance_audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;`);
    const cols = db
      .prepare<[], { name: string }>('PRAGMA table_info(governance_audit)')
      .all()
      .map((c) => c.name);
    if (!cols.includes('hash'))
      throw new Error('governance_audit has no hash chain: open the database with openDatabase (store/database.ts), which applies the schema migrations');
    this.seal();
  }

  /** Chains entries written before the hash chain existed, oldest first (once, at the first open after the upgrade). */
  private seal(): void {
    this.db.transaction(() => {
      const unsealed = this.db.prepare<[], AuditEntry>(`SELECT ${COLUMNS} FROM governance_audit WHERE hash IS NULL ORDER BY id`).all();
      if (!unsealed.length) return;
      const set = this.db.prepare('UPDATE governance_audit SET prev_hash = ?, hash = ? WHERE id = ?');
      let prev = this.headBefore(unsealed[0]?.id ?? 0);
      for (const e of unsealed) {
        const h = entryHash(prev, e);
        set.run(prev, h, e.id);
        prev = h;
      }
    })();
  }

  private headBefore(id: number): string {
    return this.db.prepare<[number], string | null>('SELECT hash FROM governance_audit WHERE id < ? ORDER BY id DESC LIMIT 1').pluck().get(id) ?? GENESIS;
  }

  append(e: AuditInput): number {
    return this.db.transaction(() => {
      const prev = this.db.prepare<[], string | null>('SELECT hash FROM governance_audit ORDER BY id DESC LIMIT 1').pluck().get() ?? GENESIS;
      const id = Number(
        this.db
          .prepare('INSERT INTO governance_audit (ts, actor, action, proposal_id, customer, meter, detail, prev_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
          .run(e.ts, e.actor, e.action, e.proposalId ?? null, e.customer ?? null, e.meter ?? null, e.detail, prev).lastInsertRowid,
      );
      const entry: AuditEntry = {
        id,
        ts: e.ts,
        actor: e.actor,
        action: e.action,
        proposalId: e.proposalId ?? null,
        customer: e.customer ?? null,
        meter: e.meter ?? null,
        detail: e.detail,
      };
      this.db.prepare('UPDATE governance_audit SET hash = ? WHERE id = ?').run(entryHash(prev, entry), id);
      return id;
    })();
  }

  /**
   * Walks the whole chain: every entry's hash must match its fields and the entry before it, and
   * the newest entry must be the last one ever written (AUTOINCREMENT's counter), so an edit, a
   * deletion in the middle and a cut-off tail are all found.
   */
  verify(): AuditVerification {
    return verifyAuditChain(this.db);
  }

  /** The newest entry of a meter with one of these actions (e.g. the last relay switch), if any. */
  lastFor(meter: number, actions: readonly string[]): AuditEntry | undefined {
    return this.db
      .prepare<unknown[], AuditEntry>(
        `SELECT id, ts, actor, action, proposal_id AS proposalId, customer, meter, detail FROM governance_audit WHERE meter = ? AND action IN (${actions.map(() => '?').join(',')}) ORDER BY id DESC LIMIT 1`,
      )
      .get(meter, ...actions);
  }

  /** Entries with from <= ts < to, oldest first. */
  list(range: { from?: number; to?: number } = {}): AuditEntry[] {
    return listAudit(this.db, range);
  }
}

/** AuditLog.list on any connection (the read worker's read-only one too). */
export function listAudit(db: Database.Database, range: { from?: number; to?: number } = {}): AuditEntry[] {
  return db
    .prepare<[number, number], AuditEntry>(
      'SELECT id, ts, actor, action, proposal_id AS proposalId, customer, meter, detail FROM governance_audit WHERE ts >= ? AND ts < ? ORDER BY id',
    )
    .all(range.from ?? 0, range.to ?? Number.MAX_SAFE_INTEGER);
}

/**
 * AuditLog.verify on any connection: walks the whole chain (a hash per entry, so off the request
 * thread: the read worker runs it). Every entry's hash must match its fields and the entry before it, and
 * the newest entry must be the last one ever written (AUTOINCREMENT's counter), so an edit, a
 * deletion in the middle and a cut-off tail are all found.
 */
export function verifyAuditChain(db: Database.Database): AuditVerification {
  const rows = db
    .prepare<[], AuditEntry & { prevHash: string | null; hash: string | null }>(
      `SELECT ${COLUMNS}, prev_hash AS prevHash, hash FROM governance_audit ORDER BY id`,
    )
    .all();
  let prev = GENESIS;
  for (const r of rows) {
    const { prevHash, hash, ...e } = r;
    if (prevHash !== prev)
      return { ok: false, entries: rows.length, at: r.id, why: `entry ${r.id} does not follow the entry before it (an entry was deleted or changed)` };
    if (hash !== entryHash(prev, e)) return { ok: false, entries: rows.length, at: r.id, why: `entry ${r.id} was changed after it was written` };
    prev = hash;
  }
  const last = db.prepare<[], number | null>("SELECT seq FROM sqlite_sequence WHERE name = 'governance_audit'").pluck().get() ?? 0;
  const newest = rows.at(-1)?.id ?? 0;
  if (last > newest) return { ok: false, entries: rows.length, at: newest + 1, why: `entries after ${newest} (up to ${last}) were deleted` };
  return { ok: true, entries: rows.length, head: prev };
}
