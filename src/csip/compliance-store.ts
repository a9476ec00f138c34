import type Database from 'better-sqlite3';
import { COMPLIANCE_QUANTITIES, type ComplianceQuantity, type ComplianceState, type DayFigures, type LastEvent } from './compliance.js';

/**
 * The compliance figures in the site's SQLite, a few rows per day: one per local day and quantity, and
 * the last event of each quantity. Saved every 5 minutes, at a day's end and at stop, so a power cut
 * loses at most 5 minutes of counting; only rows that changed since the last save are written (the
 * past days never change), so a save is about one page (SD cards wear).
 */
export class ComplianceStore {
  /** What each row held when last written or read, by table and key. */
  private readonly saved = new Map<string, string>();
  private oldestDay: string | undefined;

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
      const f: DayFigures = {
        withinS: r.within_s,
        aboveS: r.above_s,
        unmeasuredS: r.unmeasured_s,
        excessWh: r.excess_wh,
        maxExcessW: r.max_excess_w,
        maxExcessAt: r.max_excess_at,
      };
      (days[r.day] ??= {})[r.quantity] = f;
      this.saved.set(`day ${r.day} ${r.quantity}`, JSON.stringify(f));
    }
    this.oldestDay = rows[0]?.day;
    const lastEvent: Partial<Record<ComplianceQuantity, LastEvent>> = {};
    for (const r of this.db.prepare('SELECT * FROM utility_compliance_events').all() as EventRow[]) {
      if (!isQuantity(r.quantity)) continue;
      const e: LastEvent = { eventMRID: r.event_mrid, programMRID: r.program_mrid, limitW: r.limit_w, startMs: r.start_ms, metAt: r.met_at };
      lastEvent[r.quantity] = e;
      this.saved.set(`event ${r.quantity}`, JSON.stringify(e));
    }
    return { days, lastEvent, previous: null };
  }

  /** Makes what is saved equal `st` (its days and last events), writing only the rows that changed. */
  save(st: ComplianceState): void {
    const day = this.db.prepare(
      'INSERT OR REPLACE INTO utility_compliance_days (day, quantity, within_s, above_s, unmeasured_s, excess_wh, max_excess_w, max_excess_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const ev = this.db.prepare(
      'INSERT OR REPLACE INTO utility_compliance_events (quantity, event_mrid, program_mrid, limit_w, start_ms, met_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const changed = (key: string, value: object): boolean => {
      const json = JSON.stringify(value);
      if (this.saved.get(key) === json) return false;
      this.saved.set(key, json);
      return true;
    };
    this.db.transaction(() => {
      const names = Object.keys(st.days).sort();
      if (names[0] !== undefined && names[0] !== this.oldestDay) {
        this.db.prepare('DELETE FROM utility_compliance_days WHERE day < ?').run(names[0]);
        for (const k of this.saved.keys()) if (k.startsWith('day ') && k.slice(4, 4 + names[0].length) < names[0]) this.saved.delete(k);
        this.oldestDay = names[0];
      }
      for (const d of names) {
        for (const q of COMPLIANCE_QUANTITIES) {
          const f = st.days[d]?.[q];
          if (f && changed(`day ${d} ${q}`, f)) day.run(d, q, f.withinS, f.aboveS, f.unmeasuredS, f.excessWh, f.maxExcessW, f.maxExcessAt);
        }
      }
      for (const q of COMPLIANCE_QUANTITIES) {
        const e = st.lastEvent[q];
        if (e && changed(`event ${q}`, e)) ev.run(q, e.eventMRID, e.programMRID, e.limitW, e.startMs, e.metAt);
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
