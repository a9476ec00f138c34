import type Database from 'better-sqlite3';
import { z } from '#zod';
import { twinConfigSchema, type TwinConfig } from './command-schema.js';

/** A desired configuration as received, and what became of it. */
export interface DesiredRecord {
  readonly version: number;
  readonly requestId: string;
  /** The user whose token came with it (null when the token was not accepted). */
  readonly by: string | null;
  readonly status: 'applied' | 'refused';
  readonly field: string | null;
  readonly reason: string | null;
  readonly config: TwinConfig;
  readonly at: number;
}

const row = z.object({
  version: z.number().int(),
  requestId: z.string(),
  by: z.string().nullable(),
  status: z.enum(['applied', 'refused']),
  field: z.string().nullable(),
  reason: z.string().nullable(),
  config: z.string().transform((s, ctx) => {
    const r = twinConfigSchema.safeParse(JSON.parse(s));
    if (!r.success) ctx.addIssue({ code: 'custom', message: 'a cached desired configuration no longer passes the schema' });
    return r.success ? r.data : { controllers: [] };
  }),
  at: z.number().int(),
});

/**
 * The device twin's cache in the site database: the newest desired configuration received (`last`,
 * applied or refused: a re-delivery of the same version is not processed again) and the newest one
 * applied (`applied`: restored at start, so the site keeps it offline and across restarts).
 */
export class TwinStore {
  private readonly get: Database.Statement<[string]>;
  private readonly put: Database.Statement<[string, number, string, string | null, string, string | null, string | null, string, number]>;

  constructor(db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS remote_twin_desired (
      slot TEXT PRIMARY KEY CHECK (slot IN ('last', 'applied')),
      version INTEGER NOT NULL, request_id TEXT NOT NULL, actor TEXT, status TEXT NOT NULL,
      field TEXT, reason TEXT, config TEXT NOT NULL, at INTEGER NOT NULL)`);
    this.get = db.prepare('SELECT version, request_id AS requestId, actor AS by, status, field, reason, config, at FROM remote_twin_desired WHERE slot = ?');
    this.put = db.prepare(
      'INSERT OR REPLACE INTO remote_twin_desired (slot, version, request_id, actor, status, field, reason, config, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
  }

  last(): DesiredRecord | null {
    return this.read('last');
  }

  applied(): DesiredRecord | null {
    return this.read('applied');
  }

  save(r: DesiredRecord): void {
    const config = JSON.stringify(r.config);
    for (const slot of r.status === 'applied' ? ['last', 'applied'] : ['last'])
      this.put.run(slot, r.version, r.requestId, r.by, r.status, r.field, r.reason, config, r.at);
  }

  private read(slot: string): DesiredRecord | null {
    const raw = this.get.get(slot);
    if (raw === undefined) return null;
    const r = row.safeParse(raw);
    return r.success ? r.data : null;
  }
}
