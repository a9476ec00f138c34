import type { StoreDb } from './database.js';
import { addToChunk, archivedUptoS, hourOf } from './archive.js';
import { journalOf } from './journal-of.js';
import type { JournalRow } from './recent-journal.js';
import { readingRows } from './reading-rows.js';
import type { ReadingRow } from './registry.js';
import { encodeValues, layoutCovers, layoutFor, parseLayout, type Layout } from './codec.js';

export interface Reading {
  readonly meter: string;
  /** Unix ms when measured. Stored to the second: a second reading in the same second is a duplicate. */
  readonly ts: number;
  readonly values: Readonly<Record<string, number>>;
}

export interface FlushResult {
  readonly written: number;
  /** Duplicates of a stored (meter, second) and readings without a single finite value. */
  readonly ignored: number;
}

export interface ReadingWriterOptions {
  /** Readings held while the disk refuses writes (~1 h of 100 meters at 10 s); beyond it the oldest go. */
  readonly maxPending?: number;
}

export const DEFAULT_FLUSH_INTERVAL_MS = 30_000;

interface MeterState {
  readonly id: number;
  readonly layoutId?: number;
  readonly layout?: Layout;
}

/** Caches written inside a transaction; merged into the writer's caches only once it commits. */
interface Staged {
  readonly meters: Map<string, MeterState>;
  readonly layoutIds: Map<string, number>;
}

/**
 * Buffers readings in memory and writes them in one transaction per flush: few, large writes spare
 * the SD card. A row reuses the meter's current layout while that covers its channels (missing ones
 * are NaN), so a meter whose energy registers are read every 6th poll does not flip between layouts.
 */
export class ReadingWriter {
  private pending: Reading[] = [];
  private droppedCount = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly meters = new Map<string, MeterState>();
  private readonly layoutIds = new Map<string, number>();
  /** Readings held at most while flushes fail or wait; beyond it the oldest go. */
  readonly maxPending: number;
  private readonly stmt: Statements;

  constructor(
    private readonly db: StoreDb,
    opts: ReadingWriterOptions = {},
  ) {
    this.maxPending = opts.maxPending ?? 50_000;
    this.stmt = prepareStatements(db);
  }

  add(reading: Reading): void {
    if (!reading.meter) throw new Error('a reading needs a meter key');
    if (!Number.isFinite(reading.ts)) throw new Error(`reading for ${reading.meter} has no valid timestamp`);
    this.pending.push(reading);
    if (this.pending.length > this.maxPending) {
      const excess = this.pending.length - this.maxPending;
      this.pending.splice(0, excess);
      this.droppedCount += excess;
    }
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /** Readings dropped because the buffer overflowed while flushes kept failing. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Earliest timestamp not yet on disk: intervals must not be built past it. */
  oldestPendingMs(): number | undefined {
    let oldest: number | undefined;
    for (const r of this.pending) if (oldest === undefined || r.ts < oldest) oldest = r.ts;
    return oldest;
  }

  /** Writes everything buffered in one transaction. If it throws, nothing was written and the batch stays. */
  flush(): FlushResult {
    if (this.pending.length === 0) return { written: 0, ignored: 0 };
    const batch = this.pending;
    const staged: Staged = { meters: new Map(), layoutIds: new Map() };
    const result = this.db.transaction(() => this.writeBatch(batch, staged))();
    this.pending = [];
    for (const [k, v] of staged.meters) this.meters.set(k, v);
    for (const [k, v] of staged.layoutIds) this.layoutIds.set(k, v);
    return result;
  }

  /** Forgets what is buffered (a backfill that could not be written in full). */
  discard(): void {
    this.pending = [];
  }

  /** Flushes every intervalMs until the returned function (or close) is called. */
  startAutoFlush(intervalMs = DEFAULT_FLUSH_INTERVAL_MS, onError: (err: unknown) => void = warn): () => void {
    this.stopAutoFlush();
    const timer = setInterval(() => {
      try {
        this.flush();
      } catch (err) {
        onError(err);
      }
    }, intervalMs);
    timer.unref();
    this.timer = timer;
    return () => this.stopAutoFlush();
  }

  stopAutoFlush(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** For shutdown: stops the timer and writes what is left. */
  close(): FlushResult {
    this.stopAutoFlush();
    return this.flush();
  }

  private writeBatch(batch: readonly Reading[], staged: Staged): FlushResult {
    let written = 0;
    let ignored = 0;
    // New readings append to the journal; one as old as the archive joins its hour's chunk (no row is in both).
    const upto = archivedUptoS(this.db);
    const journal = journalOf(this.db);
    const fresh: JournalRow[] = [];
    const seen = new Set<string>();
    const late = new Map<string, { meterId: number; hour: number; rows: ReadingRow[] }>();
    for (const r of batch) {
      if (!Object.values(r.values).some(Number.isFinite)) {
        ignored++;
        continue;
      }
      const { layoutId, layout, meterId } = this.layoutFor(r, staged);
      const ts = Math.floor(r.ts / 1000);
      if (ts <= upto) {
        const key = `${meterId}:${hourOf(ts)}`;
        const group = late.get(key) ?? { meterId, hour: hourOf(ts), rows: [] };
        group.rows.push({ ts, layout_id: layoutId, vals: encodeValues(layout, r.values) });
        late.set(key, group);
        continue;
      }
      // The first of two readings in one second stays.
      const key = `${meterId}:${ts}`;
      if (seen.has(key) || journal.has(meterId, ts)) {
        ignored++;
        continue;
      }
      seen.add(key);
      fresh.push({ meterId, ts, layout_id: layoutId, vals: encodeValues(layout, r.values) });
    }
    for (const g of late.values()) {
      // Stable sort: of two readings in one second, the first stays, as INSERT OR IGNORE keeps it.
      const added = addToChunk(
        this.db,
        g.meterId,
        g.hour,
        g.rows.sort((a, b) => a.ts - b.ts),
      );
      written += added;
      ignored += g.rows.length - added;
    }
    // Last, so that a failed append rolls back the transaction's meters and late rows too.
    journal.append(fresh);
    written += fresh.length;
    return { written, ignored };
  }

  private layoutFor(r: Reading, staged: Staged): { meterId: number; layoutId: number; layout: Layout } {
    let state = staged.meters.get(r.meter) ?? this.meters.get(r.meter);
    if (!state) {
      state = this.loadMeter(r.meter);
      staged.meters.set(r.meter, state);
    }
    if (state.layout && state.layoutId !== undefined && layoutCovers(state.layout, r.values)) {
      return { meterId: state.id, layoutId: state.layoutId, layout: state.layout };
    }
    // Grow the layout to the union, so a channel that comes and goes keeps one layout.
    const finite = Object.keys(r.values).filter((k) => Number.isFinite(r.values[k]));
    const layout = layoutFor([...(state.layout?.index.keys() ?? []), ...finite]);
    const layoutId = this.layoutId(layout.spec, staged);
    staged.meters.set(r.meter, { id: state.id, layoutId, layout });
    return { meterId: state.id, layoutId, layout };
  }

  private loadMeter(key: string): MeterState {
    this.stmt.addMeter.run(key);
    const row = this.stmt.meterId.get(key);
    if (!row) throw new Error(`could not register meter ${key}`);
    const newest = readingRows(this.db, row.id, { desc: true, limit: 1 })[0];
    const last = newest ? this.stmt.layoutById.get(newest.layout_id) : undefined;
    return last ? { id: row.id, layoutId: last.id, layout: parseLayout(last.spec) } : { id: row.id };
  }

  private layoutId(spec: string, staged: Staged): number {
    const known = staged.layoutIds.get(spec) ?? this.layoutIds.get(spec);
    if (known !== undefined) return known;
    this.stmt.addLayout.run(spec);
    const row = this.stmt.layoutId.get(spec);
    if (!row) throw new Error(`could not register layout ${spec}`);
    staged.layoutIds.set(spec, row.id);
    return row.id;
  }
}

function prepareStatements(db: StoreDb) {
  return {
    addMeter: db.prepare<[string]>('INSERT OR IGNORE INTO meters (key) VALUES (?)'),
    meterId: db.prepare<[string], { id: number }>('SELECT id FROM meters WHERE key = ?'),
    // The meter's newest row tells which layout to continue with after a restart.
    layoutById: db.prepare<[number], { id: number; spec: string }>('SELECT id, spec FROM layouts WHERE id = ?'),
    addLayout: db.prepare<[string]>('INSERT OR IGNORE INTO layouts (spec) VALUES (?)'),
    layoutId: db.prepare<[string], { id: number }>('SELECT id FROM layouts WHERE spec = ?'),
  };
}
type Statements = ReturnType<typeof prepareStatements>;

function warn(err: unknown): void {
  process.emitWarning(`mgos store: flush failed, readings kept for the next try: ${String(err)}`);
}
