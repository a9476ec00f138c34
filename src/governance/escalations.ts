import type Database from 'better-sqlite3';
import type { AssetCapability, Escalation } from './actions.js';

/**
 * L3 capabilities dropped to L2 until a person confirms (issue 10 item 8), kept in SQLite so that a
 * restart does not quietly hand autonomy back. Used by the disconnect gate; the edge cycle keeps its
 * own in memory because it asks every second.
 */
export class EscalationStore {
  constructor(private readonly db: Database.Database) {
    db.exec(
      'CREATE TABLE IF NOT EXISTS governance_escalations (capability TEXT NOT NULL, asset TEXT NOT NULL, since_ms INTEGER NOT NULL, why TEXT NOT NULL, PRIMARY KEY (capability, asset))',
    );
  }

  get(capability: AssetCapability, asset: string): Escalation | null {
    return (
      this.db
        .prepare<[string, string], Escalation>('SELECT since_ms AS sinceMs, why FROM governance_escalations WHERE capability = ? AND asset = ?')
        .get(capability, asset) ?? null
    );
  }

  /** Records the escalation; false when it was already escalated (the first reason is kept). */
  raise(capability: AssetCapability, asset: string, e: Escalation): boolean {
    return (
      this.db
        .prepare('INSERT OR IGNORE INTO governance_escalations (capability, asset, since_ms, why) VALUES (?, ?, ?, ?)')
        .run(capability, asset, e.sinceMs, e.why).changes === 1
    );
  }

  clear(capability: AssetCapability, asset: string): void {
    this.db.prepare('DELETE FROM governance_escalations WHERE capability = ? AND asset = ?').run(capability, asset);
  }

  list(): Array<{ capability: string; asset: string; sinceMs: number; why: string }> {
    return this.db
      .prepare<[], { capability: string; asset: string; sinceMs: number; why: string }>(
        'SELECT capability, asset, since_ms AS sinceMs, why FROM governance_escalations ORDER BY since_ms',
      )
      .all();
  }
}

/**
 * The alarm's sentence for an escalation: which capability, on which asset, why, and how to hand
 * autonomy back. Asset `site` is every relay of the site (supply-disconnect escalates site-wide).
 */
export function escalationAlarmMessage(e: { readonly capability: string; readonly asset: string; readonly why: string }): string {
  const where = e.asset === 'site' ? 'every relay of the site (asset site)' : `asset ${e.asset}`;
  return `${e.capability} on ${where} needs a person: ${e.why}; it acts as L2 (proposals wait for approval) until someone confirms it (POST /api/escalations/confirm with capability ${e.capability} and asset ${e.asset})`;
}
