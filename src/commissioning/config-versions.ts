import { createHash } from 'node:crypto';
import { systemClock, type Clock } from '../util/clock.js';
import type Database from 'better-sqlite3';
import { z } from '#zod';
import { meterSchema, type MeterConfig } from '../config/site-config.js';

export interface ConfigVersion {
  readonly version: number;
  readonly at: number;
  readonly by: string;
  readonly reason: string;
  readonly source: 'file' | 'change' | 'restore' | 'rollback';
  readonly meters: readonly MeterConfig[];
}

const metersJson = z.array(meterSchema);

/** A stable fingerprint of a meters list, to notice when the site file was edited. */
export const metersHash = (meters: readonly MeterConfig[]): string => createHash('sha256').update(JSON.stringify(meters)).digest('hex');

/**
 * Every change to the meter list is a new numbered version (who, when, why); any earlier version
 * can be restored. The site file seeds version 1; editing the file later adds a version on restart,
 * so both the UI and the file stay usable.
 */
export class ConfigVersions {
  constructor(
    private readonly db: Database.Database,
    private readonly now: Clock = systemClock,
  ) {
    db.exec(`CREATE TABLE IF NOT EXISTS config_versions (
      version INTEGER PRIMARY KEY,
      at INTEGER NOT NULL,
      by TEXT NOT NULL,
      reason TEXT NOT NULL,
      source TEXT NOT NULL,
      meters TEXT NOT NULL,
      file_hash TEXT
    )`);
  }

  /** The meters to run: the newest version, after taking in the site file if it changed. */
  adoptFile(fileMeters: readonly MeterConfig[]): ConfigVersion {
    const hash = metersHash(fileMeters);
    const lastFile = this.db.prepare("SELECT file_hash FROM config_versions WHERE source = 'file' ORDER BY version DESC LIMIT 1").get() as
      { file_hash: string } | undefined;
    if (!lastFile || lastFile.file_hash !== hash) {
      return this.append(fileMeters, 'site file', lastFile ? 'the site file changed' : 'first start', 'file', hash);
    }
    const latest = this.latest();
    if (!latest) throw new Error('config_versions is empty although a file version exists');
    return latest;
  }

  append(meters: readonly MeterConfig[], by: string, reason: string, source: ConfigVersion['source'], fileHash: string | null = null): ConfigVersion {
    const at = this.now();
    const r = this.db
      .prepare('INSERT INTO config_versions (at, by, reason, source, meters, file_hash) VALUES (?, ?, ?, ?, ?, ?)')
      .run(at, by, reason, source, JSON.stringify(meters), fileHash);
    return { version: Number(r.lastInsertRowid), at, by, reason, source, meters };
  }

  latest(): ConfigVersion | undefined {
    const row = this.db.prepare('SELECT * FROM config_versions ORDER BY version DESC LIMIT 1').get() as Row | undefined;
    return row ? toVersion(row) : undefined;
  }

  get(version: number): ConfigVersion | undefined {
    const row = this.db.prepare('SELECT * FROM config_versions WHERE version = ?').get(version) as Row | undefined;
    return row ? toVersion(row) : undefined;
  }

  list(limit = 100): Array<Omit<ConfigVersion, 'meters'> & { meters: number }> {
    const rows = this.db.prepare('SELECT * FROM config_versions ORDER BY version DESC LIMIT ?').all(limit) as Row[];
    return rows.map((r) => ({ ...toVersion(r), meters: metersJson.parse(JSON.parse(r.meters)).length }));
  }
}

interface Row {
  version: number;
  at: number;
  by: string;
  reason: string;
  source: ConfigVersion['source'];
  meters: string;
}

function toVersion(r: Row): ConfigVersion {
  return { version: r.version, at: r.at, by: r.by, reason: r.reason, source: r.source, meters: metersJson.parse(JSON.parse(r.meters)) };
}
