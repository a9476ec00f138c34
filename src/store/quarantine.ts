import type { StoreDb } from './database.js';
import { INTERVAL_MS, alignInterval } from './interval-calc.js';
import { recomputeIntervals, type BuildOptions } from './intervals.js';
import { updateInterval } from './interval-table.js';
import { meterIdOf } from './registry.js';

/**
 * Quarantined intervals (see interval-calc.ts) and how a person resolves them. A resolution writes
 * the energies billing reads, once, and is kept with who, when and why; billing charges resolutions
 * of intervals it already passed by their id (resolutionsAfter).
 */
export class QuarantineError extends Error {
  constructor(
    readonly kind: 'not-found' | 'conflict' | 'invalid',
    message: string,
  ) {
    super(message);
    this.name = 'QuarantineError';
  }
}

export interface QuarantinedInterval {
  readonly meter: string;
  readonly startMs: number;
  readonly reason: string;
  /** What the counters said; never billed as such. */
  readonly suspectImportKWh: number | null;
  readonly suspectExportKWh: number | null;
  readonly samples: number;
}

export type ResolutionAction = 'accept' | 'set' | 'zero';

export interface ResolutionInput {
  readonly action: ResolutionAction;
  /** For `set`: the corrected energies (kWh); export defaults to 0. */
  readonly importKWh?: number;
  readonly exportKWh?: number;
  readonly by: string;
  readonly why: string;
  readonly atMs: number;
}

export interface Resolution {
  readonly id: number;
  readonly meter: string;
  readonly startMs: number;
  readonly action: ResolutionAction | 'replacement';
  readonly importKWh: number | null;
  readonly exportKWh: number | null;
  readonly by: string;
  readonly atMs: number;
  readonly why: string;
}

interface QRow {
  key: string;
  start_ts: number;
  reason: string | null;
  suspect_imp_kwh: number | null;
  suspect_exp_kwh: number | null;
  samples: number;
}

const toQuarantined = (r: QRow): QuarantinedInterval => ({
  meter: r.key,
  startMs: r.start_ts * 1000,
  reason: r.reason ?? '',
  suspectImportKWh: r.suspect_imp_kwh,
  suspectExportKWh: r.suspect_exp_kwh,
  samples: r.samples,
});

/** Unresolved quarantined intervals, oldest first; of one meter or all. */
export function listQuarantined(db: StoreDb, meter?: string, limit = 1000): QuarantinedInterval[] {
  const sql = `SELECT m.key, i.start_ts, i.reason, i.suspect_imp_kwh, i.suspect_exp_kwh, i.samples
     FROM intervals i JOIN meters m ON m.id = i.meter_id
     WHERE i.status = 'quarantined' ${meter === undefined ? '' : 'AND m.key = ?'} ORDER BY i.start_ts, m.key LIMIT ?`;
  const args = meter === undefined ? [limit] : [meter, limit];
  return db
    .prepare<unknown[], QRow>(sql)
    .all(...args)
    .map(toQuarantined);
}

const MAX_KWH = 1_000_000;

function energiesOf(q: QuarantinedInterval, r: ResolutionInput): [number, number] {
  if (r.action === 'zero') return [0, 0];
  if (r.action === 'accept') return [q.suspectImportKWh ?? 0, q.suspectExportKWh ?? 0];
  const check = (field: string, v: number | undefined): number => {
    if (v === undefined) {
      if (field === 'exportKWh') return 0;
      throw new QuarantineError('invalid', `importKWh: action "set" needs the corrected energy; found nothing; allowed: a number of kWh from 0 to ${MAX_KWH}`);
    }
    if (!Number.isFinite(v) || v < 0 || v > MAX_KWH)
      throw new QuarantineError('invalid', `${field}: found ${v}; allowed: a number of kWh from 0 to ${MAX_KWH}`);
    return v;
  };
  return [check('importKWh', r.importKWh), check('exportKWh', r.exportKWh)];
}

/** Resolves one quarantined interval: its energies become what the person decided, and billable. */
export function resolveInterval(db: StoreDb, meter: string, startMs: number, r: ResolutionInput): Resolution {
  return db.transaction(() => resolveOne(db, meter, startMs, r))();
}

function resolveOne(
  db: StoreDb,
  meter: string,
  startMs: number,
  r: Omit<ResolutionInput, 'action'> & { action: ResolutionAction | 'replacement' },
  energies?: [number | null, number | null],
): Resolution {
  const meterId = meterIdOf(db, meter);
  if (meterId === undefined) throw new QuarantineError('not-found', `meter: no intervals are stored for "${meter}"`);
  const found = db
    .prepare<[number, number], Omit<QRow, 'key'> & { status: string }>(
      'SELECT start_ts, reason, suspect_imp_kwh, suspect_exp_kwh, samples, status FROM intervals WHERE meter_id = ? AND start_ts = ?',
    )
    .get(meterId, startMs / 1000);
  const row = found && { ...found, key: meter };
  if (!row) throw new QuarantineError('not-found', `start: ${meter} has no stored interval starting at ${new Date(startMs).toISOString()}`);
  if (row.status !== 'quarantined') {
    throw new QuarantineError(
      'conflict',
      `start: the interval of ${meter} at ${new Date(startMs).toISOString()} is ${row.status === 'ok' ? 'not quarantined' : 'already resolved'}; only a quarantined interval can be resolved, once`,
    );
  }
  const [imp, exp] = energies ?? energiesOf(toQuarantined(row), r as ResolutionInput);
  updateInterval(db, meterId, row.start_ts, { status: 'resolved', e_imp_kwh: imp, e_exp_kwh: exp });
  const info = db
    .prepare('INSERT INTO interval_resolutions (meter_id, start_ts, action, e_imp_kwh, e_exp_kwh, by_user, at_ms, why) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
    .run(meterId, row.start_ts, r.action, imp, exp, r.by, r.atMs, r.why);
  return { id: Number(info.lastInsertRowid), meter, startMs, action: r.action, importKWh: imp, exportKWh: exp, by: r.by, atMs: r.atMs, why: r.why };
}

/**
 * After a replacement is recorded: quarantined intervals of the meter from the swap on are built
 * again with it; those that are now plausible are resolved as 'replacement' (by whoever recorded
 * it), the others stay quarantined with their reason brought up to date.
 */
export function rejudgeQuarantined(
  db: StoreDb,
  meterId: number,
  fromMs: number,
  who: { by: string; why: string; atMs: number },
  opts: BuildOptions = {},
): Resolution[] {
  const meter = db.prepare<[number], string>('SELECT key FROM meters WHERE id = ?').pluck().get(meterId);
  if (meter === undefined) return [];
  const starts = db
    .prepare<[number, number], number>(
      "SELECT start_ts * 1000 FROM intervals WHERE meter_id = ? AND status = 'quarantined' AND start_ts >= ? ORDER BY start_ts",
    )
    .pluck()
    .all(meterId, (alignInterval(fromMs) - INTERVAL_MS) / 1000);
  const first = starts[0];
  const last = starts[starts.length - 1];
  if (first === undefined || last === undefined) return [];
  const fresh = new Map(recomputeIntervals(db, meterId, first, last + INTERVAL_MS, opts).map((r) => [r.startMs, r]));
  const out: Resolution[] = [];
  db.transaction(() => {
    for (const s of starts) {
      const r = fresh.get(s);
      if (!r) continue;
      if (r.status === undefined) out.push(resolveOne(db, meter, s, { ...who, action: 'replacement' }, [r.energyImportKWh, r.energyExportKWh]));
      else
        updateInterval(db, meterId, s / 1000, {
          reason: r.reason ?? '',
          suspect_imp_kwh: r.suspectImportKWh ?? null,
          suspect_exp_kwh: r.suspectExportKWh ?? null,
        });
    }
  })();
  return out;
}

/** The newest resolution id: billing remembers it to charge only resolutions it has not seen. */
export function lastResolutionId(db: StoreDb): number {
  return db.prepare<[], number | null>('SELECT max(id) FROM interval_resolutions').pluck().get() ?? 0;
}

/** Resolutions with id > afterId of one meter's intervals starting in [fromMs, toMs). */
export function resolutionsAfter(db: StoreDb, afterId: number, meter: string, fromMs: number, toMs: number): Resolution[] {
  const meterId = meterIdOf(db, meter);
  if (meterId === undefined) return [];
  return db
    .prepare<
      [number, number, number, number],
      {
        id: number;
        start_ts: number;
        action: Resolution['action'];
        e_imp_kwh: number | null;
        e_exp_kwh: number | null;
        by_user: string;
        at_ms: number;
        why: string;
      }
    >('SELECT * FROM interval_resolutions WHERE id > ? AND meter_id = ? AND start_ts >= ? AND start_ts < ? ORDER BY id')
    .all(afterId, meterId, Math.ceil(fromMs / 1000), Math.ceil(toMs / 1000))
    .map((r) => ({
      id: r.id,
      meter,
      startMs: r.start_ts * 1000,
      action: r.action,
      importKWh: r.e_imp_kwh,
      exportKWh: r.e_exp_kwh,
      by: r.by_user,
      atMs: r.at_ms,
      why: r.why,
    }));
}

/** Who resolved an interval, when and why (the audit trail). */
export function resolutionOf(db: StoreDb, meter: string, startMs: number): Resolution | undefined {
  return resolutionsAfter(db, 0, meter, startMs, startMs + 1)[0];
}
