import type Database from 'better-sqlite3';

export interface OutboxMessage {
  readonly id: number;
  readonly body: string;
  readonly attempts: number;
  /** Not before this time (unix ms, the notifier's clock): the back-off after a failed attempt. */
  readonly nextAt: number;
}

/**
 * Webhook messages waiting for delivery, in the site database: they survive a restart or power
 * cut, and are written in the same transaction as the alarm change they announce.
 */
export class Outbox {
  constructor(private readonly db: Database.Database) {}

  /** Due at once (next_at 0): the alarm clock (createdAt) may be a test's, the back-off clock is real. */
  enqueue(body: string, createdAt: number): number {
    return Number(this.db.prepare('INSERT INTO alarm_outbox (created_at, body, next_at) VALUES (?, ?, 0)').run(createdAt, body).lastInsertRowid);
  }

  /**
   * The oldest message. Delivery is strictly in order (a receiver must not see a clear before its
   * raise), so a failing message holds back the ones behind it; they go to the same URL anyway.
   */
  head(): OutboxMessage | undefined {
    return this.db.prepare<[], OutboxMessage>('SELECT id, body, attempts, next_at AS nextAt FROM alarm_outbox ORDER BY id LIMIT 1').get();
  }

  delivered(id: number): void {
    this.db.prepare('DELETE FROM alarm_outbox WHERE id = ?').run(id);
  }

  failed(id: number, error: string, nextAt: number): void {
    this.db.prepare('UPDATE alarm_outbox SET attempts = attempts + 1, last_error = ?, next_at = ? WHERE id = ?').run(error, nextAt, id);
  }

  pending(): number {
    return this.db.prepare<[], number>('SELECT count(*) FROM alarm_outbox').pluck().get() ?? 0;
  }
}
