import type Database from 'better-sqlite3';

export interface SmsRow {
  readonly id: number;
  readonly to: string;
  readonly kind: string;
  readonly text: string;
  readonly attempts: number;
  readonly nextAt: number;
  readonly state: 'queued' | 'sent';
  readonly providerId: string | null;
  readonly lastError: string | null;
}

/**
 * SMS messages waiting for delivery, in the site database so they survive a restart. Sent messages
 * stay as a record (what the customer was told, and when).
 */
export class SmsOutbox {
  constructor(private readonly db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS sms_outbox (
      id INTEGER PRIMARY KEY AUTOINCREMENT, created_at INTEGER NOT NULL, recipient TEXT NOT NULL, kind TEXT NOT NULL,
      text TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL, state TEXT NOT NULL DEFAULT 'queued',
      provider_id TEXT, sent_at INTEGER, last_error TEXT);
    CREATE INDEX IF NOT EXISTS sms_outbox_due ON sms_outbox (state, next_at);`);
  }

  enqueue(to: string, kind: string, text: string, now: number): number {
    return Number(
      this.db.prepare('INSERT INTO sms_outbox (created_at, recipient, kind, text, next_at) VALUES (?, ?, ?, ?, ?)').run(now, to, kind, text, now)
        .lastInsertRowid,
    );
  }

  due(now: number, limit = 20): SmsRow[] {
    return this.db.prepare<[number, number], SmsRow>(`${SELECT} WHERE state = 'queued' AND next_at <= ? ORDER BY id LIMIT ?`).all(now, limit);
  }

  sent(id: number, providerId: string, now: number): void {
    this.db.prepare("UPDATE sms_outbox SET state = 'sent', provider_id = ?, sent_at = ?, attempts = attempts + 1 WHERE id = ?").run(providerId, now, id);
  }

  failed(id: number, error: string, nextAt: number): void {
    this.db.prepare('UPDATE sms_outbox SET attempts = attempts + 1, last_error = ?, next_at = ? WHERE id = ?').run(error, nextAt, id);
  }

  all(): SmsRow[] {
    return this.db.prepare<[], SmsRow>(`${SELECT} ORDER BY id`).all();
  }
}

const SELECT =
  'SELECT id, recipient AS "to", kind, text, attempts, next_at AS nextAt, state, provider_id AS providerId, last_error AS lastError FROM sms_outbox';
