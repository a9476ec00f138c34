import type Database from 'better-sqlite3';
import { openDurableQueueDb } from '../store/durable-queue-db.js';
import { z } from '#zod';
import type { MeasuredPoint } from './mirror-readings.js';

/**
 * The readings the 2030.5 client took at each postRate and has not yet had accepted by the server
 * (issue 11 item 4): kept while the server is unreachable and posted in order, with the time they
 * were taken, when it answers again. Bounded: beyond `maxSamples` the oldest are dropped and counted.
 *
 * Two implementations: in memory (the default, and the conformance runner's), and durable in SQLite
 * on the uplink queue's pattern (`src/uplink/queue.ts`: WAL, synchronous=FULL, AUTOINCREMENT ids, one
 * transaction per commit, the oldest dropped beyond the bound with a persistent count) in its own file
 * next to the store: the store runs synchronous=NORMAL (a power cut may lose its last commits) and the
 * uplink's module is a sibling room the dependency rule keeps out of reach. One row per sample, the
 * point as JSON checked by zod when read back: a few hundred bytes.
 *
 * A sample is written only if it is still waiting at the next commit: the client pushes, posts, then
 * commits, so while the server answers nothing reaches the SD card (two synchronous=FULL transactions
 * per post before). A power cut during the post loses that post's samples, which were taken at most one
 * request timeout before; once a post fails they are on disk.
 */

export interface TelemetrySample {
  /** The MirrorUsagePoint's mRID. */
  readonly mrid: string;
  /** When the values were taken, in server seconds (the client's view of the server's time). */
  readonly atS: number;
  readonly point: MeasuredPoint;
}

export interface QueuedSample extends TelemetrySample {
  readonly id: number;
}

export interface TelemetryQueue {
  push(s: TelemetrySample): void;
  /** The oldest `n` samples not yet acknowledged, oldest first (stored ones, then pushed ones not yet committed). */
  peek(n: number): QueuedSample[];
  /** The server accepted (or refused for good) this sample. */
  ack(id: number): void;
  /** Makes the pushes still waiting and the acks durable (one transaction); nothing for the memory queue. */
  commit(): void;
  /** Samples waiting. */
  readonly size: number;
  /** Samples dropped as the oldest beyond the bound, since the queue was created. */
  readonly dropped: number;
  close(): void;
}

export class MemoryTelemetryQueue implements TelemetryQueue {
  private items: QueuedSample[] = [];
  private nextId = 1;
  private droppedTotal = 0;

  constructor(private readonly maxSamples: number) {}

  push(s: TelemetrySample): void {
    this.items.push({ ...s, id: this.nextId++ });
    const over = this.items.length - this.maxSamples;
    if (over > 0) {
      this.items.splice(0, over);
      this.droppedTotal += over;
    }
  }

  peek(n: number): QueuedSample[] {
    return this.items.slice(0, n);
  }

  ack(id: number): void {
    this.items = this.items.filter((s) => s.id !== id);
  }

  commit(): void {}

  get size(): number {
    return this.items.length;
  }

  get dropped(): number {
    return this.droppedTotal;
  }

  close(): void {}
}

const phaseSchema = z.object({ activePowerW: z.number().optional(), reactivePowerVar: z.number().optional(), voltageV: z.number().optional() }).strict();
/** A stored point, checked when read back (the file may be from another version, or damaged). */
const pointSchema = z
  .object({
    activePowerW: z.number().optional(),
    reactivePowerVar: z.number().optional(),
    voltageV: z.number().optional(),
    storedEnergyWh: z.number().optional(),
    phases: z.object({ L1: phaseSchema.optional(), L2: phaseSchema.optional(), L3: phaseSchema.optional() }).strict().optional(),
  })
  .strict();

const SCHEMA = `
CREATE TABLE IF NOT EXISTS csip_telemetry (id INTEGER PRIMARY KEY AUTOINCREMENT, mrid TEXT NOT NULL, at_ms INTEGER NOT NULL, point TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS csip_telemetry_meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID;
`;

interface Row {
  id: number;
  mrid: string;
  at_ms: number;
  point: string;
}

/** Drops a value that is not a finite number (JSON would turn NaN into null). */
const clean = (p: MeasuredPoint): MeasuredPoint =>
  JSON.parse(JSON.stringify(p, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? undefined : v))) as MeasuredPoint;

export class SqliteTelemetryQueue implements TelemetryQueue {
  private readonly db: Database.Database;
  /** Pushed, not yet committed; their ids are negative until they are stored. */
  private pending: QueuedSample[] = [];
  private nextPendingId = -1;
  /** Samples stored since the file was opened (what reached the disk). */
  written = 0;
  private acks: number[] = [];
  /** Samples up to this id were acknowledged (durable at the next commit). */
  private after = 0;
  private rows: number;
  private droppedTotal: number;
  private readonly st: {
    insert: Database.Statement;
    del: Database.Statement;
    dropOldest: Database.Statement;
    after: Database.Statement;
    meta: Database.Statement;
  };

  constructor(
    readonly file: string,
    private readonly maxSamples: number,
  ) {
    this.db = openDurableQueueDb(file, SCHEMA);
    this.rows = (this.db.prepare('SELECT count(*) AS n FROM csip_telemetry').get() as { n: number }).n;
    this.droppedTotal = (this.db.prepare("SELECT v FROM csip_telemetry_meta WHERE k = 'dropped'").get() as { v: number } | undefined)?.v ?? 0;
    this.st = {
      insert: this.db.prepare('INSERT INTO csip_telemetry (mrid, at_ms, point) VALUES (?, ?, ?)'),
      del: this.db.prepare('DELETE FROM csip_telemetry WHERE id = ?'),
      dropOldest: this.db.prepare('DELETE FROM csip_telemetry WHERE id IN (SELECT id FROM csip_telemetry ORDER BY id LIMIT ?)'),
      after: this.db.prepare('SELECT id, mrid, at_ms, point FROM csip_telemetry WHERE id > ? ORDER BY id LIMIT ?'),
      meta: this.db.prepare("INSERT INTO csip_telemetry_meta (k, v) VALUES ('dropped', ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v"),
    };
  }

  push(s: TelemetrySample): void {
    this.pending.push({ ...s, id: this.nextPendingId-- });
  }

  peek(n: number): QueuedSample[] {
    const out: QueuedSample[] = [];
    for (const r of this.st.after.all(this.after, n) as Row[]) {
      const p = pointSchema.safeParse(JSON.parse(r.point));
      // A row that does not read back is acknowledged away rather than blocking the queue.
      if (p.success) out.push({ id: r.id, mrid: r.mrid, atS: r.at_ms / 1000, point: p.data });
      else this.ack(r.id);
    }
    return [...out, ...this.pending.slice(0, Math.max(0, n - out.length))];
  }

  ack(id: number): void {
    if (id < 0) {
      this.pending = this.pending.filter((s) => s.id !== id);
      return;
    }
    this.acks.push(id);
    this.after = Math.max(this.after, id);
  }

  /** One transaction: the acknowledged rows deleted, the new ones inserted, the oldest beyond the bound dropped. */
  commit(): void {
    if (this.pending.length === 0 && this.acks.length === 0) return;
    const batch = this.pending;
    const acks = this.acks;
    this.pending = [];
    this.acks = [];
    this.db.transaction(() => {
      for (const id of acks) this.rows -= this.st.del.run(id).changes;
      for (const s of batch) this.st.insert.run(s.mrid, Math.round(s.atS * 1000), JSON.stringify(clean(s.point)));
      this.rows += batch.length;
      this.written += batch.length;
      if (this.rows > this.maxSamples) {
        const dropped = this.st.dropOldest.run(this.rows - this.maxSamples).changes;
        this.rows -= dropped;
        this.droppedTotal += dropped;
        this.st.meta.run(this.droppedTotal);
      }
    })();
  }

  get size(): number {
    return this.rows + this.pending.length - this.acks.length;
  }

  get dropped(): number {
    return this.droppedTotal;
  }

  close(): void {
    this.commit();
    this.db.close();
  }
}
