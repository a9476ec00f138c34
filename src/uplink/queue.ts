import type Database from 'better-sqlite3';
import { openDurableQueueDb } from '../store/durable-queue-db.js';
import { isCounter } from './names.js';

/**
 * The uplink's durable queue: every message is committed here before it is sent and deleted only when
 * the broker acknowledged it (PUBACK). Its own SQLite file, so the store's schema is untouched.
 *
 * SD card: new messages and acknowledgements are written in one transaction per batch. A row is the
 * message's content, not its payload: (id, component, channel layout, ms time, BLOB of values: float32,
 * float64 for counters, then int32 ms offsets only when a channel's time differs). Components and
 * layouts are interned. The payload is encoded when it is sent, the same bytes every time.
 * AUTOINCREMENT: an id is never reused, even after the queue empties, so ids identify duplicates.
 * synchronous=FULL: a committed message survives a power cut, not only a kill -9.
 */

/** A message to queue: one component's channel values. */
export interface NewMessage {
  readonly component: string;
  /** Unix ms of the message (its SenML base time). */
  readonly ts: number;
  readonly channels: readonly string[];
  readonly values: readonly number[];
  /** Unix ms of each value when they differ from `ts`. */
  readonly times?: readonly number[];
}

export interface QueuedMessage extends NewMessage {
  readonly id: number;
}

export interface QueueOptions {
  /** The most messages kept; beyond it the oldest are dropped. */
  readonly maxMessages: number;
  /** Told after each batch that dropped messages: how many now, how many since the file was created. */
  readonly onDrop?: (dropped: number, total: number) => void;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS uplink_dict (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS uplink_queue (id INTEGER PRIMARY KEY AUTOINCREMENT, c INTEGER NOT NULL, l INTEGER NOT NULL, ts INTEGER NOT NULL, v BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS uplink_meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID;
`;

interface Row {
  id: number;
  c: number;
  l: number;
  ts: number;
  v: Buffer;
}

export function encodeValues(channels: readonly string[], values: readonly number[], ts: number, times?: readonly number[]): Buffer {
  const wide = channels.map(isCounter);
  const size = wide.reduce((s, w) => s + (w ? 8 : 4), 0);
  const offsets = times?.some((t) => t !== ts) ? times : undefined;
  const buf = Buffer.allocUnsafe(size + (offsets ? 4 * channels.length : 0));
  let at = 0;
  channels.forEach((_, i) => {
    const v = values[i] ?? NaN;
    if (wide[i]) at = buf.writeDoubleLE(v, at);
    else at = buf.writeFloatLE(v, at);
  });
  if (offsets) for (const t of offsets) at = buf.writeInt32LE(Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, t - ts)), at);
  return buf;
}

/** Float32 values come back with the digits they were given (7 significant), not float32 noise. */
const f32 = (x: number): number => Number(x.toPrecision(7));

export function decodeValues(channels: readonly string[], ts: number, v: Buffer): { values: number[]; times?: number[] } {
  const wide = channels.map(isCounter);
  const size = wide.reduce((s, w) => s + (w ? 8 : 4), 0);
  let at = 0;
  const values = wide.map((w) => {
    const x = w ? v.readDoubleLE(at) : f32(v.readFloatLE(at));
    at += w ? 8 : 4;
    return x;
  });
  if (v.length < size + 4 * channels.length) return { values };
  const times = channels.map((_, i) => ts + v.readInt32LE(size + 4 * i));
  return { values, times };
}

export class UplinkQueue {
  private readonly db: Database.Database;
  private readonly dict = new Map<string, number>();
  private readonly names = new Map<number, string>();
  private pending: NewMessage[] = [];
  private acks: number[] = [];
  private rows: number;
  private droppedTotal: number;
  private readonly st: {
    insert: Database.Statement;
    del: Database.Statement;
    dropOldest: Database.Statement;
    after: Database.Statement;
    dictAdd: Database.Statement;
    meta: Database.Statement;
  };

  constructor(
    readonly file: string,
    private readonly o: QueueOptions,
  ) {
    this.db = openDurableQueueDb(file, SCHEMA);
    for (const r of this.db.prepare('SELECT id, text FROM uplink_dict').all() as Array<{ id: number; text: string }>) {
      this.dict.set(r.text, r.id);
      this.names.set(r.id, r.text);
    }
    this.rows = (this.db.prepare('SELECT count(*) AS n FROM uplink_queue').get() as { n: number }).n;
    this.droppedTotal = (this.db.prepare("SELECT v FROM uplink_meta WHERE k = 'dropped'").get() as { v: number } | undefined)?.v ?? 0;
    this.st = {
      insert: this.db.prepare('INSERT INTO uplink_queue (c, l, ts, v) VALUES (?, ?, ?, ?)'),
      del: this.db.prepare('DELETE FROM uplink_queue WHERE id = ?'),
      dropOldest: this.db.prepare('DELETE FROM uplink_queue WHERE id IN (SELECT id FROM uplink_queue ORDER BY id LIMIT ?)'),
      after: this.db.prepare('SELECT id, c, l, ts, v FROM uplink_queue WHERE id > ? AND id <= ? ORDER BY id LIMIT ?'),
      dictAdd: this.db.prepare('INSERT INTO uplink_dict (text) VALUES (?)'),
      meta: this.db.prepare("INSERT INTO uplink_meta (k, v) VALUES ('dropped', ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v"),
    };
  }

  /** Buffers a message; it is durable (and sendable) after the next flush. */
  add(m: NewMessage): void {
    this.pending.push(m);
  }

  /** Buffers the deletion of an acknowledged message. */
  ack(id: number): void {
    this.acks.push(id);
  }

  get buffered(): number {
    return this.pending.length;
  }

  get pendingAcks(): number {
    return this.acks.length;
  }

  /** Messages in the file (committed). */
  get size(): number {
    return this.rows;
  }

  get dropped(): number {
    return this.droppedTotal;
  }

  /**
   * One transaction: deletes acknowledged messages, inserts the buffered ones, drops the oldest beyond
   * the bound. Returns the new messages with their ids.
   */
  flush(): QueuedMessage[] {
    if (this.pending.length === 0 && this.acks.length === 0) return [];
    const batch = this.pending;
    const acks = this.acks;
    let dropped = 0;
    const out = this.db.transaction(() => {
      for (const id of acks) this.rows -= this.st.del.run(id).changes;
      const added = batch.map((m) => {
        const c = this.intern(`c:${m.component}`);
        const l = this.intern(`l:${m.channels.join(',')}`);
        const id = Number(this.st.insert.run(c, l, m.ts, encodeValues(m.channels, m.values, m.ts, m.times)).lastInsertRowid);
        return { ...m, id };
      });
      this.rows += added.length;
      if (this.rows > this.o.maxMessages) {
        dropped = this.st.dropOldest.run(this.rows - this.o.maxMessages).changes;
        this.rows -= dropped;
        this.st.meta.run(this.droppedTotal + dropped);
      }
      return added;
    })();
    this.pending = [];
    this.acks = [];
    if (dropped > 0) {
      this.droppedTotal += dropped;
      this.o.onDrop?.(dropped, this.droppedTotal);
    }
    return out;
  }

  /** Committed messages with afterId < id <= uptoId, oldest first. */
  read(afterId: number, uptoId: number, limit: number): QueuedMessage[] {
    return (this.st.after.all(afterId, uptoId, limit) as Row[]).map((r) => {
      const component = (this.names.get(r.c) ?? 'c:?').slice(2);
      const layout = (this.names.get(r.l) ?? 'l:').slice(2);
      const channels = layout === '' ? [] : layout.split(',');
      const { values, times } = decodeValues(channels, r.ts, r.v);
      return times ? { id: r.id, component, ts: r.ts, channels, values, times } : { id: r.id, component, ts: r.ts, channels, values };
    });
  }

  /** The newest committed id (0 when none was ever written). */
  maxId(): number {
    return (this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'uplink_queue'").get() as { seq: number } | undefined)?.seq ?? 0;
  }

  /** File size in bytes (pages in use times page size), for the size estimate. */
  bytesUsed(): number {
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    return (pages - free) * (this.db.pragma('page_size', { simple: true }) as number);
  }

  /** The oldest queued message's time (ms), or null when empty. */
  oldestTs(): number | null {
    const row = this.db.prepare<[], { ts: number }>('SELECT ts FROM uplink_queue ORDER BY id LIMIT 1').get();
    return row ? row.ts : null;
  }

  close(): void {
    this.flush();
    this.db.close();
  }

  private intern(text: string): number {
    const known = this.dict.get(text);
    if (known !== undefined) return known;
    const id = Number(this.st.dictAdd.run(text).lastInsertRowid);
    this.dict.set(text, id);
    this.names.set(id, text);
    return id;
  }
}
