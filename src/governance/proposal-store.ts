import type Database from 'better-sqlite3';
import { CAPABILITIES, type Actor, type Capability, type Proposal, type ProposalInput, type ProposalState } from './types.js';

interface Row {
  id: number;
  created_at: number;
  capability: string;
  customer: string;
  meter: number;
  reason: string;
  proposed_by: string;
  state: ProposalState;
  decided_by: string | null;
  decided_at: number | null;
  why: string | null;
}

const toActor = (s: string): Actor => (s === 'system' ? { kind: 'system' } : { kind: 'user', username: s.replace(/^user:/, '') });
const fromActor = (a: Actor): string => (a.kind === 'system' ? 'system' : `user:${a.username}`);

function toProposal(r: Row): Proposal {
  const capability = CAPABILITIES.find((c) => c === r.capability);
  if (!capability) throw new Error(`proposal ${r.id} has unknown capability ${r.capability}`);
  return {
    id: r.id,
    capability,
    asset: { customer: r.customer, meter: r.meter },
    reason: r.reason,
    proposedBy: toActor(r.proposed_by),
    criticality: 'business-critical',
    state: r.state,
    createdAt: r.created_at,
    decidedBy: r.decided_by,
    decidedAt: r.decided_at,
    why: r.why,
  };
}

/** Command proposals and their lifecycle; the history of each step lives in the audit log. */
export class ProposalStore {
  constructor(private readonly db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS governance_proposals (
      id INTEGER PRIMARY KEY AUTOINCREMENT, created_at INTEGER NOT NULL, capability TEXT NOT NULL,
      customer TEXT NOT NULL, meter INTEGER NOT NULL, reason TEXT NOT NULL, proposed_by TEXT NOT NULL,
      criticality TEXT NOT NULL DEFAULT 'business-critical', state TEXT NOT NULL,
      decided_by TEXT, decided_at INTEGER, why TEXT);
    CREATE INDEX IF NOT EXISTS governance_proposals_state ON governance_proposals (state, meter);`);
  }

  /** `why`: the decision that put it in this state (why it waits, or which rule runs it). */
  create(p: ProposalInput, state: ProposalState, createdAt: number, why: string | null = null): Proposal {
    const id = Number(
      this.db
        .prepare('INSERT INTO governance_proposals (created_at, capability, customer, meter, reason, proposed_by, state, why) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(createdAt, p.capability, p.asset.customer, p.asset.meter, p.reason, fromActor(p.proposedBy), state, why).lastInsertRowid,
    );
    return this.require(id);
  }

  get(id: number): Proposal | undefined {
    const r = this.db.prepare<[number], Row>('SELECT * FROM governance_proposals WHERE id = ?').get(id);
    return r && toProposal(r);
  }

  require(id: number): Proposal {
    const p = this.get(id);
    if (!p) throw new Error(`proposal ${id} does not exist`);
    return p;
  }

  /** Moves a proposal on only from the expected state, so two operators cannot both approve it. */
  transition(id: number, from: readonly ProposalState[], to: ProposalState, by: string, at: number, why: string): boolean {
    const marks = from.map(() => '?').join(',');
    const r = this.db
      .prepare(`UPDATE governance_proposals SET state = ?, decided_by = ?, decided_at = ?, why = ? WHERE id = ? AND state IN (${marks})`)
      .run(to, by, at, why, id, ...from);
    return r.changes === 1;
  }

  list(filter: { state?: ProposalState; meter?: number; capability?: Capability } = {}): Proposal[] {
    const rows = this.db
      .prepare<[string | null, string | null, number | null, number | null, string | null, string | null], Row>(
        'SELECT * FROM governance_proposals WHERE (? IS NULL OR state = ?) AND (? IS NULL OR meter = ?) AND (? IS NULL OR capability = ?) ORDER BY id',
      )
      .all(filter.state ?? null, filter.state ?? null, filter.meter ?? null, filter.meter ?? null, filter.capability ?? null, filter.capability ?? null);
    return rows.map(toProposal);
  }
}
