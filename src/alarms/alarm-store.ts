import type Database from 'better-sqlite3';
import { systemClock } from '../util/clock.js';
import { migrateAlarmTables } from './alarm-schema.js';
import { AlarmError } from './errors.js';
import { SEVERITIES, SYSTEM_ACTOR, type Severity } from './types.js';

export type AlarmState = 'open' | 'cleared';
export type AlarmEventKind = 'raised' | 'updated' | 'acknowledged' | 'cleared';

export interface Acknowledgement {
  readonly by: string;
  readonly at: number;
  readonly note: string | null;
}

export interface AlarmRecord {
  readonly id: number;
  readonly rule: string;
  readonly subject: string;
  readonly severity: Severity;
  readonly state: AlarmState;
  readonly condition: string;
  readonly message: string;
  readonly raisedAt: number;
  readonly clearedAt: number | null;
  readonly acknowledged: Acknowledgement | null;
}

export interface AlarmEvent {
  readonly at: number;
  readonly kind: AlarmEventKind;
  readonly by: string;
  readonly message: string | null;
}

/** One change to one alarm, handed to onChange inside the same transaction (the webhook outbox). */
export interface AlarmChange {
  readonly event: AlarmEvent;
  readonly alarm: AlarmRecord;
}

export interface RaiseInput {
  readonly rule: string;
  readonly subject: string;
  readonly severity: Severity;
  readonly message: string;
  /** What exactly is wrong; the same condition and severity again is not a change. Default: message. */
  readonly condition?: string;
  readonly at?: number;
  readonly by?: string;
}

export interface AlarmQuery {
  /** Default: open. */
  readonly state?: AlarmState | 'all';
  /** A meter key: its own alarms and those of its channels (meter12/Voltage_L1). */
  readonly meter?: string;
  readonly limit?: number;
}

export interface AlarmStoreOptions {
  readonly now?: () => number;
  /** Called inside the transaction of every change, so whatever it writes commits with it. */
  readonly onChange?: (change: AlarmChange) => void;
}

interface AlarmRow {
  id: number;
  rule: string;
  subject: string;
  severity: Severity;
  state: AlarmState;
  condition: string;
  message: string;
  raised_at: number;
  cleared_at: number | null;
  acked_by: string | null;
  acked_at: number | null;
  ack_note: string | null;
}

const toRecord = (r: AlarmRow): AlarmRecord => ({
  id: r.id,
  rule: r.rule,
  subject: r.subject,
  severity: r.severity,
  state: r.state,
  condition: r.condition,
  message: r.message,
  raisedAt: r.raised_at,
  clearedAt: r.cleared_at,
  acknowledged: r.acked_by !== null && r.acked_at !== null ? { by: r.acked_by, at: r.acked_at, note: r.ack_note } : null,
});

const openKey = (rule: string, subject: string): string => `${rule}\u0000${subject}`;

/**
 * Alarms and their history in SQLite. At most one open alarm per (rule, subject): raising it again
 * updates it (or does nothing), and a clear keeps the row and its events, so the next raise is a
 * new alarm with its own acknowledgement.
 * Open alarms are also kept in memory: the rules ask about every meter after every poll cycle, and
 * this store is the only writer of its tables.
 */
export class AlarmStore {
  private readonly now: () => number;
  private readonly onChange: (change: AlarmChange) => void;
  private readonly openAlarms = new Map<string, AlarmRecord>();

  constructor(
    private readonly db: Database.Database,
    opts: AlarmStoreOptions = {},
  ) {
    migrateAlarmTables(db);
    this.now = opts.now ?? systemClock;
    this.onChange = opts.onChange ?? (() => undefined);
    for (const row of db.prepare<[], AlarmRow>("SELECT * FROM alarms WHERE state = 'open'").all())
      this.openAlarms.set(openKey(row.rule, row.subject), toRecord(row));
  }

  /** Opens an alarm, or updates the open one when its condition or severity changed; returns what happened. */
  raise(input: RaiseInput): { alarm: AlarmRecord; change: 'raised' | 'updated' | null } {
    const at = input.at ?? this.now();
    const by = input.by ?? SYSTEM_ACTOR;
    const condition = input.condition ?? input.message;
    const open = this.findOpen(input.rule, input.subject);
    if (open && open.condition === condition && open.severity === input.severity) return { alarm: open, change: null };
    return this.db.transaction(() => {
      if (open) {
        // A new condition or a worse severity needs fresh eyes: the acknowledgement is reset (its event stays).
        const realarm = open.condition !== condition || SEVERITIES.indexOf(input.severity) < SEVERITIES.indexOf(open.severity);
        const ack = realarm ? ', acked_by = NULL, acked_at = NULL, ack_note = NULL' : '';
        this.db.prepare(`UPDATE alarms SET severity = ?, condition = ?, message = ?${ack} WHERE id = ?`).run(input.severity, condition, input.message, open.id);
        return { alarm: this.record(open.id, { at, kind: 'updated', by, message: input.message }), change: 'updated' as const };
      }
      const id = Number(
        this.db
          .prepare('INSERT INTO alarms (rule, subject, severity, state, condition, message, raised_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
          .run(input.rule, input.subject, input.severity, 'open', condition, input.message, at).lastInsertRowid,
      );
      return { alarm: this.record(id, { at, kind: 'raised', by, message: input.message }), change: 'raised' as const };
    })();
  }

  /** Clears the open alarm of (rule, subject), if any; returns it cleared, or null when none was open. */
  clear(rule: string, subject: string, opts: { at?: number; by?: string; message?: string } = {}): AlarmRecord | null {
    const open = this.findOpen(rule, subject);
    if (!open) return null;
    const at = opts.at ?? this.now();
    return this.db.transaction(() => {
      this.db.prepare("UPDATE alarms SET state = 'cleared', cleared_at = ? WHERE id = ?").run(at, open.id);
      return this.record(open.id, { at, kind: 'cleared', by: opts.by ?? SYSTEM_ACTOR, message: opts.message ?? null });
    })();
  }

  /** An operator confirms they have seen the alarm (open or cleared); only once per alarm. */
  acknowledge(id: number, by: string, note?: string, at = this.now()): AlarmRecord {
    if (!by) throw new AlarmError('invalid', 'an acknowledgement needs the name of the operator');
    const alarm = this.get(id);
    if (!alarm) throw new AlarmError('not_found', `no alarm ${id}`);
    if (alarm.acknowledged)
      throw new AlarmError('conflict', `alarm ${id} was already acknowledged by ${alarm.acknowledged.by} at ${new Date(alarm.acknowledged.at).toISOString()}`);
    return this.db.transaction(() => {
      this.db.prepare('UPDATE alarms SET acked_by = ?, acked_at = ?, ack_note = ? WHERE id = ?').run(by, at, note ?? null, id);
      return this.record(id, { at, kind: 'acknowledged', by, message: note ?? null });
    })();
  }

  get(id: number): AlarmRecord | undefined {
    const row = this.db.prepare<[number], AlarmRow>('SELECT * FROM alarms WHERE id = ?').get(id);
    return row ? toRecord(row) : undefined;
  }

  findOpen(rule: string, subject: string): AlarmRecord | undefined {
    return this.openAlarms.get(openKey(rule, subject));
  }

  isOpen(rule: string, subject: string): boolean {
    return this.openAlarms.has(openKey(rule, subject));
  }

  /** How many alarms are open, per severity (every severity present, 0 when none). */
  openBySeverity(): Record<Severity, number> {
    const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
    const rows = this.db
      .prepare<[], { severity: Severity; n: number }>("SELECT severity, COUNT(*) AS n FROM alarms WHERE state = 'open' GROUP BY severity")
      .all();
    for (const r of rows) if (r.severity in counts) counts[r.severity] = r.n;
    return counts;
  }

  /** Newest first. */
  list(q: AlarmQuery = {}): AlarmRecord[] {
    const where: string[] = [];
    const args: Record<string, string | number> = { limit: q.limit ?? 500 };
    const state = q.state ?? 'open';
    if (state !== 'all') {
      where.push('state = @state');
      args.state = state;
    }
    if (q.meter) {
      where.push("(subject = @meter OR subject LIKE @meter || '/%')");
      args.meter = q.meter;
    }
    const sql = `SELECT * FROM alarms ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY raised_at DESC, id DESC LIMIT @limit`;
    return this.db.prepare<[Record<string, string | number>], AlarmRow>(sql).all(args).map(toRecord);
  }

  /** Oldest first. */
  events(id: number): AlarmEvent[] {
    return this.db.prepare<[number], AlarmEvent>('SELECT at, kind, by, message FROM alarm_events WHERE alarm_id = ? ORDER BY id').all(id);
  }

  /** Writes the event, reads the alarm back and tells onChange; runs inside the caller's transaction. */
  private record(id: number, event: AlarmEvent): AlarmRecord {
    this.db.prepare('INSERT INTO alarm_events (alarm_id, at, kind, by, message) VALUES (?, ?, ?, ?, ?)').run(id, event.at, event.kind, event.by, event.message);
    const alarm = this.get(id);
    if (!alarm) throw new Error(`alarm ${id} vanished inside its own transaction`);
    this.onChange({ event, alarm });
    // Only once everything above succeeded: a throw rolls the transaction back and leaves the cache as the file.
    if (alarm.state === 'open') this.openAlarms.set(openKey(alarm.rule, alarm.subject), alarm);
    else this.openAlarms.delete(openKey(alarm.rule, alarm.subject));
    return alarm;
  }
}
