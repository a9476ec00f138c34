import type Database from 'better-sqlite3';
import type { AuditDraft } from '../governance/actions.js';
import type { AuditLog } from '../governance/audit-log.js';

/**
 * What the cycle decided and why, with few writes (issue 10 item 1; the SD card):
 * - every cycle's decisions go to a ring buffer in memory (the API and the UI read it);
 * - a decision is persisted only when it changed something (another value beyond a tolerance, another
 *   outcome or authority), in one transaction per flush (every `flushEveryMs`);
 * - an actuation's audit entry is merged with the previous one of the same command while it repeats
 *   it (same authority and person, value within the tolerance): one entry says "held N cycles between
 *   a and b" when the run ends, or at the latest every `auditEveryMs`. Other audit drafts (proposals,
 *   approvals, overrides) are written at the next flush, in order.
 */
export interface Decision {
  readonly target: string;
  readonly value: number;
  readonly outcome: 'actuate' | 'recommend' | 'propose' | 'hold';
  readonly authority: string | null;
  readonly by: string | null;
  readonly why: string;
  readonly chosenBy: string | null;
  readonly boundBy: readonly string[];
  readonly overruled: readonly string[];
  /** What offsets (frequency droop) added to the value the classes chose (W); 0 without. Kept in memory, not persisted. */
  readonly offset: number;
}

export interface CycleRecord {
  readonly cycle: number;
  readonly at: number;
  readonly durationMs: number;
  readonly jitterMs: number;
  readonly decisions: readonly Decision[];
}

interface Run {
  draft: AuditDraft;
  authority: string;
  by: string;
  count: number;
  min: number;
  max: number;
  first: number;
  last: number;
}

export class DecisionLog {
  private readonly ring: CycleRecord[] = [];
  private readonly changed: Array<{ at: number; d: Decision }> = [];
  private readonly lastPersisted = new Map<string, Decision>();
  private readonly runs = new Map<string, Run>();
  private readonly audits: AuditDraft[] = [];
  private lastFlush = 0;
  persistedDecisions = 0;
  auditEntries = 0;

  constructor(
    private readonly db: Database.Database,
    private readonly audit: AuditLog,
    private readonly o: { ringSize?: number; flushEveryMs?: number; auditEveryMs?: number; tolerance?: (target: string) => number } = {},
  ) {
    db.exec(`CREATE TABLE IF NOT EXISTS control_decisions (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, target TEXT NOT NULL, value REAL NOT NULL, outcome TEXT NOT NULL, authority TEXT, why TEXT NOT NULL, bound_by TEXT);
      CREATE INDEX IF NOT EXISTS control_decisions_at ON control_decisions (at);`);
  }

  record(r: CycleRecord): void {
    this.ring.push(r);
    if (this.ring.length > (this.o.ringSize ?? 300)) this.ring.shift();
    for (const d of r.decisions) {
      const prev = this.lastPersisted.get(d.target);
      const tol = this.o.tolerance?.(d.target) ?? 50;
      if (!prev || prev.outcome !== d.outcome || prev.authority !== d.authority || Math.abs(prev.value - d.value) > tol) {
        this.changed.push({ at: r.at, d });
        this.lastPersisted.set(d.target, d);
      }
    }
  }

  /** An actuation's audit entry: merged into the run it repeats. */
  actuation(target: string, value: number, authority: string, by: string, draft: AuditDraft): void {
    const run = this.runs.get(target);
    const tol = this.o.tolerance?.(target) ?? 50;
    if (
      run &&
      run.authority === authority &&
      run.by === by &&
      Math.max(run.max, value) - Math.min(run.min, value) <= 2 * tol &&
      draft.ts - run.first < (this.o.auditEveryMs ?? 60_000)
    ) {
      run.count++;
      run.min = Math.min(run.min, value);
      run.max = Math.max(run.max, value);
      run.last = draft.ts;
      return;
    }
    if (run) this.closeRun(target, run);
    this.runs.set(target, { draft, authority, by, count: 1, min: value, max: value, first: draft.ts, last: draft.ts });
    this.audits.push(draft);
  }

  /** Any other audit draft (proposal, approval, override, escalation, failure). */
  note(draft: AuditDraft): void {
    this.audits.push(draft);
  }

  private closeRun(target: string, run: Run): void {
    if (run.count > 1)
      this.audits.push({
        ts: run.last,
        actor: run.by,
        action: 'actuate-held',
        detail: `${target} held by ${run.authority} for ${run.count} cycles between ${Math.round(run.min)} and ${Math.round(run.max)} until ${new Date(run.last).toISOString()}`,
      });
  }

  /** Writes what is due; `force` writes everything (shutdown, the audit API). */
  flush(nowMs: number, force = false): void {
    if (!force && nowMs - this.lastFlush < (this.o.flushEveryMs ?? 10_000)) return;
    this.lastFlush = nowMs;
    if (force) {
      for (const [t, run] of this.runs) this.closeRun(t, run);
      this.runs.clear();
    }
    if (!this.changed.length && !this.audits.length) return;
    const rows = this.changed.splice(0);
    const audits = this.audits.splice(0);
    const ins = this.db.prepare('INSERT INTO control_decisions (at, target, value, outcome, authority, why, bound_by) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const { at, d } of rows) ins.run(at, d.target, d.value, d.outcome, d.authority, d.why, d.boundBy.join('; ') || null);
      for (const a of audits) this.audit.append(a);
    })();
    this.persistedDecisions += rows.length;
    this.auditEntries += audits.length;
  }

  recent(n = 20): CycleRecord[] {
    return this.ring.slice(-n);
  }
}
