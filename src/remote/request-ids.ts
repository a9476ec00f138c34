import type Database from 'better-sqlite3';
import type { Clock } from '../util/clock.js';

/** Why a command was refused: the field at fault and a sentence naming the fix. */
export interface Refusal {
  readonly field: string;
  readonly reason: string;
}

/**
 * Replay protection for remote commands: a command is taken only when its `issuedAt` is within
 * `maxSkewMs` of the site's clock and its request id was never taken before. Ids are kept in SQLite
 * (a restart forgets nothing) for twice the window after they arrive, which covers every moment a
 * copy of the command could still pass the time check; beyond that the time check refuses it. At most
 * `remember` ids are kept: when that many arrived within the window, new commands are refused rather
 * than forgetting an id that could still be replayed.
 */
export class RequestIds {
  private readonly has: Database.Statement<[string], number>;
  private readonly count: Database.Statement<[], number>;
  private readonly prune: Database.Statement<[number]>;
  private readonly add: Database.Statement<[string, number]>;

  constructor(
    db: Database.Database,
    private readonly o: { readonly maxSkewMs: number; readonly remember: number; readonly clock: Clock },
  ) {
    db.exec(`CREATE TABLE IF NOT EXISTS remote_request_ids (request_id TEXT PRIMARY KEY, at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS remote_request_ids_at ON remote_request_ids (at);`);
    this.has = db.prepare<[string], number>('SELECT 1 FROM remote_request_ids WHERE request_id = ?').pluck();
    this.count = db.prepare<[], number>('SELECT count(*) FROM remote_request_ids').pluck();
    this.prune = db.prepare<[number]>('DELETE FROM remote_request_ids WHERE at < ?');
    this.add = db.prepare<[string, number]>('INSERT INTO remote_request_ids (request_id, at) VALUES (?, ?)');
  }

  /** Null when the command may be taken; otherwise why not. Remembers nothing (see take). */
  check(requestId: string, issuedAt: number | null): Refusal | null {
    this.prune.run(this.o.clock() - 2 * this.o.maxSkewMs);
    if (this.has.get(requestId) !== undefined)
      return { field: 'requestId', reason: `requestId: "${requestId}" was already used; send each command with a new request id` };
    if (issuedAt !== null) {
      const now = this.o.clock();
      const skew = issuedAt - now;
      if (Math.abs(skew) > this.o.maxSkewMs)
        return {
          field: 'issuedAt',
          reason: `issuedAt: ${new Date(issuedAt).toISOString()} is ${Math.round(Math.abs(skew) / 1000)} s ${skew < 0 ? 'old' : 'ahead'} (at most ${this.o.maxSkewMs / 1000} s); send it again with the current time`,
        };
    }
    const n = this.count.get() ?? 0;
    if (n >= this.o.remember)
      return {
        field: 'requestId',
        reason: `requestId: ${n} commands arrived within ${(2 * this.o.maxSkewMs) / 60_000} minutes, the most this site remembers (uplink.commands.rememberIds); wait and send it again`,
      };
    return null;
  }

  /** Marks the id used: no later command with it is taken. */
  take(requestId: string): void {
    this.add.run(requestId, this.o.clock());
  }
}
