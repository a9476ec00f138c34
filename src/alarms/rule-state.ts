import type Database from 'better-sqlite3';

/**
 * What a rule must remember across restarts (e.g. an export counter's baseline), as JSON per
 * (rule, subject). The caller validates what it reads back: the row may come from an older mgos.
 */
export class RuleStateStore {
  /** Read once per key, then served from memory: rules ask after every poll cycle. Writes go through. */
  private readonly cache = new Map<string, unknown>();
  /** What is stored, as text: a caller may have changed the cached object in place before set(). */
  private readonly stored = new Map<string, string | undefined>();
  /** When each key was last written (ms, the caller's clock), for setLazily. */
  private readonly writtenAt = new Map<string, number>();

  constructor(private readonly db: Database.Database) {}

  get(rule: string, subject: string): unknown {
    const key = `${rule}\u0000${subject}`;
    if (this.cache.has(key)) return this.cache.get(key);
    const text = this.db.prepare<[string, string], string>('SELECT state FROM alarm_rule_state WHERE rule = ? AND subject = ?').pluck().get(rule, subject);
    const state = text === undefined ? undefined : (JSON.parse(text) as unknown);
    this.cache.set(key, state);
    this.stored.set(key, text);
    return state;
  }

  set(rule: string, subject: string, state: unknown, nowMs?: number): void {
    // Rules set their state every cycle; an unchanged row is not written again (SD wear).
    const key = `${rule}\u0000${subject}`;
    if (!this.stored.has(key)) this.get(rule, subject);
    const text = JSON.stringify(state);
    if (this.stored.get(key) !== text) this.write(key, rule, subject, text, nowMs);
    this.cache.set(key, state);
  }

  /**
   * Like set(), but a change is written at most once every `everyMs`; meanwhile it is served from
   * memory. For state whose loss in a power cut costs nothing but a little progress (a counter's last
   * value, which the next reading brings back): written on every poll, one exporting meter's watch
   * cost a 4 KB WAL page every 10 s, 94 MB a day for 100 meters (bench/disk-writes).
   */
  setLazily(rule: string, subject: string, state: unknown, nowMs: number, everyMs: number): void {
    const key = `${rule}\u0000${subject}`;
    if (!this.stored.has(key)) this.get(rule, subject);
    const last = this.writtenAt.get(key);
    if (last === undefined || nowMs - last >= everyMs || nowMs < last) this.set(rule, subject, state, nowMs);
    else this.cache.set(key, state);
  }

  private write(key: string, rule: string, subject: string, text: string, nowMs: number | undefined): void {
    this.db.prepare('INSERT OR REPLACE INTO alarm_rule_state (rule, subject, state) VALUES (?, ?, ?)').run(rule, subject, text);
    this.stored.set(key, text);
    if (nowMs !== undefined) this.writtenAt.set(key, nowMs);
  }
}
