import type Database from 'better-sqlite3';
import { AUTONOMY_LEVELS, DEFAULT_AUTONOMY, type AutonomyLevel, type Capability } from './types.js';

export interface Hold {
  readonly meter: number;
  readonly by: string;
  readonly since: number;
  /** Unix ms, or null for "until an operator releases it". */
  readonly until: number | null;
  readonly reason: string;
}

/** Autonomy levels per site and capability, and operator holds that keep a relay closed. */
export class GovernanceSettings {
  constructor(private readonly db: Database.Database) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS governance_autonomy (site TEXT NOT NULL, capability TEXT NOT NULL, level TEXT NOT NULL, PRIMARY KEY (site, capability));
      CREATE TABLE IF NOT EXISTS governance_holds (meter INTEGER PRIMARY KEY, by TEXT NOT NULL, since INTEGER NOT NULL, until INTEGER, reason TEXT NOT NULL);`);
  }

  autonomy(site: string, capability: Capability): AutonomyLevel {
    const v = this.db
      .prepare<[string, string], string>('SELECT level FROM governance_autonomy WHERE site = ? AND capability = ?')
      .pluck()
      .get(site, capability);
    return AUTONOMY_LEVELS.find((l) => l === v) ?? DEFAULT_AUTONOMY[capability];
  }

  setAutonomy(site: string, capability: Capability, level: AutonomyLevel): void {
    this.db
      .prepare('INSERT INTO governance_autonomy (site, capability, level) VALUES (?, ?, ?) ON CONFLICT (site, capability) DO UPDATE SET level = excluded.level')
      .run(site, capability, level);
  }

  hold(h: Hold): void {
    this.db
      .prepare('INSERT OR REPLACE INTO governance_holds (meter, by, since, until, reason) VALUES (?, ?, ?, ?, ?)')
      .run(h.meter, h.by, h.since, h.until, h.reason);
  }

  release(meter: number): boolean {
    return this.db.prepare('DELETE FROM governance_holds WHERE meter = ?').run(meter).changes === 1;
  }

  /** The hold on a meter in force at `now` (an expired hold no longer counts). */
  holdOn(meter: number, now: number): Hold | undefined {
    return this.db
      .prepare<[number, number], Hold>('SELECT meter, by, since, until, reason FROM governance_holds WHERE meter = ? AND (until IS NULL OR until > ?)')
      .get(meter, now);
  }
}
