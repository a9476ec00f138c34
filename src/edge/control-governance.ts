import type Database from 'better-sqlite3';
import type { Approval, AssetCapability, Escalation, Override } from '../governance/actions.js';

/**
 * The people's side of the edge cycle's governance (issue 10 item 8): L1 recommendations (in memory,
 * for the API and the people on site), L2 proposals with expiry and their approvals (SQLite, like the
 * disconnect gate's proposals: a state machine moved only from the expected state), human overrides
 * for a set time, and L3 escalations waiting for a person to confirm. Every step is audited by the
 * caller (ControlRuntime) in the hash-chained audit log.
 */
export type ControlProposalState = 'pending' | 'approved' | 'rejected' | 'expired';

export interface ControlProposal {
  readonly id: number;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly asset: string;
  readonly capability: AssetCapability;
  readonly target: string;
  readonly value: number;
  readonly why: string;
  readonly state: ControlProposalState;
  readonly decidedBy: string | null;
  readonly decidedAt: number | null;
  readonly reason: string | null;
}

export interface Recommendation {
  readonly target: string;
  readonly asset: string;
  readonly capability: AssetCapability;
  readonly value: number;
  readonly why: string;
  readonly since: number;
  readonly at: number;
}

interface Row {
  id: number;
  created_at: number;
  expires_at: number;
  asset: string;
  capability: AssetCapability;
  target: string;
  value: number;
  why: string;
  state: ControlProposalState;
  decided_by: string | null;
  decided_at: number | null;
  reason: string | null;
}

const toProposal = (r: Row): ControlProposal => ({
  id: r.id,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  asset: r.asset,
  capability: r.capability,
  target: r.target,
  value: r.value,
  why: r.why,
  state: r.state,
  decidedBy: r.decided_by,
  decidedAt: r.decided_at,
  reason: r.reason,
});

export class ControlProposals {
  constructor(private readonly db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS control_proposals (
      id INTEGER PRIMARY KEY AUTOINCREMENT, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
      asset TEXT NOT NULL, capability TEXT NOT NULL, target TEXT NOT NULL, value REAL NOT NULL, why TEXT NOT NULL,
      state TEXT NOT NULL, decided_by TEXT, decided_at INTEGER, reason TEXT);
    CREATE INDEX IF NOT EXISTS control_proposals_state ON control_proposals (state, target);`);
  }

  create(p: Omit<ControlProposal, 'id' | 'state' | 'decidedBy' | 'decidedAt' | 'reason'>): ControlProposal {
    const id = Number(
      this.db
        .prepare('INSERT INTO control_proposals (created_at, expires_at, asset, capability, target, value, why, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(p.createdAt, p.expiresAt, p.asset, p.capability, p.target, p.value, p.why, 'pending').lastInsertRowid,
    );
    return this.require(id);
  }

  get(id: number): ControlProposal | undefined {
    const r = this.db.prepare<[number], Row>('SELECT * FROM control_proposals WHERE id = ?').get(id);
    return r && toProposal(r);
  }

  require(id: number): ControlProposal {
    const p = this.get(id);
    if (!p) throw new Error(`control proposal ${id} does not exist`);
    return p;
  }

  pendingFor(target: string): ControlProposal | undefined {
    const r = this.db.prepare<[string], Row>("SELECT * FROM control_proposals WHERE target = ? AND state = 'pending' ORDER BY id DESC LIMIT 1").get(target);
    return r && toProposal(r);
  }

  /** Keeps a pending proposal's value and reason current (the cycle's latest wish), not its expiry. */
  refresh(id: number, value: number, why: string): void {
    this.db.prepare("UPDATE control_proposals SET value = ?, why = ? WHERE id = ? AND state = 'pending'").run(value, why, id);
  }

  transition(id: number, to: ControlProposalState, by: string, at: number, reason: string): boolean {
    return (
      this.db
        .prepare("UPDATE control_proposals SET state = ?, decided_by = ?, decided_at = ?, reason = ? WHERE id = ? AND state = 'pending'")
        .run(to, by, at, reason, id).changes === 1
    );
  }

  /** Pending proposals past their expiry. */
  expired(nowMs: number): ControlProposal[] {
    return this.db.prepare<[number], Row>("SELECT * FROM control_proposals WHERE state = 'pending' AND expires_at <= ?").all(nowMs).map(toProposal);
  }

  list(state?: ControlProposalState, limit = 200): ControlProposal[] {
    return this.db
      .prepare<[string | null, string | null, number], Row>('SELECT * FROM control_proposals WHERE (? IS NULL OR state = ?) ORDER BY id DESC LIMIT ?')
      .all(state ?? null, state ?? null, limit)
      .map(toProposal);
  }
}

/** In-memory governance state of the running cycle. */
export class ControlGovernanceState {
  readonly recommendations = new Map<string, Recommendation>();
  /** By command target. */
  readonly approvals = new Map<string, Approval>();
  /** By command target (an asset override covers each of its targets). */
  readonly overrides = new Map<string, Override & { readonly asset: string; readonly id: number }>();
  /** By `capability|asset`. */
  readonly escalations = new Map<string, Escalation>();
  private nextOverride = 1;

  newOverrideId(): number {
    return this.nextOverride++;
  }

  recommend(r: Omit<Recommendation, 'since'>): void {
    const prev = this.recommendations.get(r.target);
    this.recommendations.set(r.target, { ...r, since: prev && Math.abs(prev.value - r.value) < 1 ? prev.since : r.at });
  }

  /** Drops what has expired; returns the overrides that ended (to audit). */
  expire(nowMs: number): Array<Override & { asset: string; id: number }> {
    const ended: Array<Override & { asset: string; id: number }> = [];
    for (const [t, o] of this.overrides) {
      if (nowMs < o.untilMs) continue;
      ended.push(o);
      this.overrides.delete(t);
    }
    for (const [t, a] of this.approvals) if (nowMs >= a.expiresAtMs) this.approvals.delete(t);
    for (const [t, r] of this.recommendations) if (nowMs - r.at > 60_000) this.recommendations.delete(t);
    return ended;
  }
}
