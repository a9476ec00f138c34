import type Database from 'better-sqlite3';
import { AUTONOMY_LEVELS, type AutonomyLevel } from './types.js';

export interface Hold {
  readonly meter: number;
  readonly by: string;
  readonly since: number;
  /** Unix ms, or null for "until an operator releases it". */
  readonly until: number | null;
  readonly reason: string;
}

/**
 * The site-wide level of supply-disconnect as changed through the API (audited, kept over restarts),
 * and operator holds that keep a relay closed. Per-relay levels live in the site file's
 * `control.autonomy`, beside the other capabilities.
 */
const SITE_KEY = 'supply-disconnect';
/** Rows written before disconnects became a capability of the action governance. */
const LEGACY_KEY = 'disconnect';

export class GovernanceSettings {
  constructor(private readonly db: Database.Database) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS governance_autonomy (site TEXT NOT NULL, capability TEXT NOT NULL, level TEXT NOT NULL, PRIMARY KEY (site, capability));
      CREATE TABLE IF NOT EXISTS governance_holds (meter INTEGER PRIMARY KEY, by TEXT NOT NULL, since INTEGER NOT NULL, until INTEGER, reason TEXT NOT NULL);`);
  }

  /** The site-wide level of supply-disconnect, or undefined when nobody set one (the seed's default applies). */
  siteLevel(site: string): AutonomyLevel | undefined {
    const get = (key: string): string | undefined =>
      this.db.prepare<[string, string], string>('SELECT level FROM governance_autonomy WHERE site = ? AND capability = ?').pluck().get(site, key);
    const v = get(SITE_KEY) ?? get(LEGACY_KEY);
    return AUTONOMY_LEVELS.find((l) => l === v);
  }

  setSiteLevel(site: string, level: AutonomyLevel): void {
    this.db
      .prepare('INSERT INTO governance_autonomy (site, capability, level) VALUES (?, ?, ?) ON CONFLICT (site, capability) DO UPDATE SET level = excluded.level')
      .run(site, SITE_KEY, level);
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
