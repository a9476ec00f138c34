import type Database from 'better-sqlite3';
import { COMPLIANCE_QUANTITIES, type ComplianceQuantity, type ComplianceState, type DayFigures, type LastEvent } from './compliance.js';

/**
 * The compliance figures in the site's SQLite, a few rows per day: one per local day and quantity, and
 * the last event of each quantity. Written whole (at most 8 days × 4 quantities) once a minute and at
 * a day's end, so a restart loses at most a minute of counting.
 */
export class ComplianceStore {
  constructor(private readonly db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS utility_compliance_days (
      day TEXT NOT NULL, quantity TEXT NOT NULL, within_s REAL NOT NULL, above_s REAL NOT NULL, unmeasured_s REAL NOT NULL,
      excess_wh REAL NOT NULL, max_excess_w REAL NOT NULL, max_excess_at INTEGER, PRIMARY KEY (day, quantity)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS utility_compliance_events (
      quantity TEXT PRIMARY KEY, event_mrid TEXT NOT NULL, program_mrid TEXT NOT NULL, limit_w REAL NOT NULL, start_ms INTEGER NOT NULL, met_at INTEGER)`);
  }

  /** What was saved (without a previous sample: the time since is unknown). */
  load(): ComplianceState {
    const days: Record<string, Partial<Record<ComplianceQuantity, DayFigures>>> = {};
    const rows = this.db.prepare('SELECT * FROM utility_compliance_days ORDER BY day').all() as DayRow[];
    for (const r of rows) {
      if (!isQuantity(r.quantity)) continue;
      (days[r.day] ??= {})[r.quantity] = {
        withinS: r.within_s,
        aboveS: r.above_s,
        unmeasuredS: r.unmeasured_s,
        excessWh: r.excess_wh,
        maxExcessW: r.max_excess_w,
        maxExcessAt: r.max_excess_at,
      };
    }
    const lastEvent: Partial<Record<ComplianceQuantity, LastEvent>> = {};
    for (const r of this.db.prepare('SELECT * FROM utility_compliance_events').all() as EventRow[]) {
      if (!isQuantity(r.quantity)) continue;
      lastEvent[r.quantity] = { eventMRID: r.event_mrid, programMRID: r.program_mrid, limitW: r.limit_w, startMs: r.start_ms, metAt: r.met_at };
    }
    return { days, lastEvent, previous: null };
  }

  /** Replaces what is saved with `st` (its days and last events). */
  save(st: ComplianceState): void {
    const day = this.db.prepare(
      'INSERT OR REPLACE INTO utility_compliance_days (day, quantity, within_s, above_s, unmeasured_s, excess_wh, max_excess_w, max_excess_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const ev = this.db.prepare(
      'INSERT OR REPLACE INTO utility_compliance_events (quantity, event_mrid, program_mrid, limit_w, start_ms, met_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.db.transaction(() => {
      const names = Object.keys(st.days).sort();
      if (names[0] !== undefined) this.db.prepare('DELETE FROM utility_compliance_days WHERE day < ?').run(names[0]);
      for (const d of names) {
        for (const q of COMPLIANCE_QUANTITIES) {
          const f = st.days[d]?.[q];
          if (f) day.run(d, q, f.withinS, f.aboveS, f.unmeasuredS, f.excessWh, f.maxExcessW, f.maxExcessAt);
        }
      }
      for (const q of COMPLIANCE_QUANTITIES) {
        const e = st.lastEvent[q];
        if (e) ev.run(q, e.eventMRID, e.programMRID, e.limitW, e.startMs, e.metAt);
      }
    })();
  }
}

interface DayRow {
  day: string;
  quantity: string;
  within_s: number;
  above_s: number;
  unmeasured_s: number;
  excess_wh: number;
  max_excess_w: number;
  max_excess_at: number | null;
}

interface EventRow {
  quantity: string;
  event_mrid: string;
  program_mrid: string;
  limit_w: number;
  start_ms: number;
  met_at: number | null;
}

const isQuantity = (q: string): q is ComplianceQuantity => (COMPLIANCE_QUANTITIES as readonly string[]).includes(q);
