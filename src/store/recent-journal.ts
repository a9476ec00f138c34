import { closeSync, constants, fdatasync, fstatSync, ftruncateSync, mkdirSync, openSync, readdirSync, readSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { HOUR_S, hourOf } from './hour.js';
import type { ReadingRow } from './registry.js';
import { pushVarint, VarintReader } from './varint.js';

/**
 * The readings of the hours not yet moved to the chunks: an append-only file per hour beside the
 * database (`<db>-recent/<hour start>.rj`), mirrored in memory. SD-card wear is why it is not a
 * table: a row in a WAL-mode table is written three times (the WAL frame, the checkpoint's copy and
 * the page rewritten when its hour moves), each time as whole 4 KB pages. An append is written
 * once, in the pages it fills. Power cuts: a record carries its length and CRC-32, so a torn last
 * record is recognised and cut off; each append is synced in the background (fdatasync on the
 * thread pool), so a flush is durable moments after it returns and the event loop never waits.
 *
 * Record: u32 LE payload length | u32 LE CRC-32 of the payload | payload. Payload: unsigned LEB128
 * row count, then per row: meter id, seconds after the hour's start, layout id, value bytes length,
 * the value bytes (codec.ts).
 */
export interface JournalRow extends ReadingRow {
  readonly meterId: number;
}

const EXT = '.rj';
const HEADER = 8;
/** A record bigger than this is damage, not data (a flush of 100 meters is ~20 KB). */
const MAX_RECORD = 64 * 1024 * 1024;

/** One meter's rows of one hour, sorted by time; values live in one growing buffer. */
class MeterHour {
  ts: number[] = [];
  layout: number[] = [];
  off: number[] = [];
  len: number[] = [];
  data = Buffer.allocUnsafe(1024);
  used = 0;

  has(ts: number): boolean {
    return this.ts[this.indexOf(ts)] === ts;
  }

  /** First index whose time is at or after ts. */
  indexOf(ts: number): number {
    let lo = 0;
    let hi = this.ts.length;
    if (hi > 0 && (this.ts[hi - 1] as number) < ts) return hi;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.ts[mid] as number) < ts) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  add(ts: number, layout: number, vals: Buffer): void {
    if (this.used + vals.length > this.data.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.data.length * 2, this.used + vals.length));
      this.data.copy(grown, 0, 0, this.used);
      this.data = grown;
    }
    vals.copy(this.data, this.used);
    const i = this.indexOf(ts);
    this.ts.splice(i, 0, ts);
    this.layout.splice(i, 0, layout);
    this.off.splice(i, 0, this.used);
    this.len.splice(i, 0, vals.length);
    this.used += vals.length;
  }

  row(i: number): ReadingRow {
    const off = this.off[i] as number;
    return { ts: this.ts[i] as number, layout_id: this.layout[i] as number, vals: this.data.subarray(off, off + (this.len[i] as number)) };
  }
}

interface Segment {
  readonly hour: number;
  readonly meters: Map<number, MeterHour>;
  /** Bytes of whole, valid records read or written; appends go here. */
  size: number;
}

/** Appends to out a meter-hour's rows with fromS <= ts < toS. */
function rowsOf(mh: MeterHour, fromS: number, toS: number, out: ReadingRow[]): ReadingRow[] {
  for (let i = mh.indexOf(fromS); i < mh.ts.length && (mh.ts[i] as number) < toS; i++) out.push(mh.row(i));
  return out;
}

function encodeRecord(hour: number, rows: readonly JournalRow[]): Buffer {
  const bytes: number[] = [];
  pushVarint(bytes, rows.length, 'journal');
  for (const r of rows) {
    pushVarint(bytes, r.meterId, 'journal');
    pushVarint(bytes, r.ts - hour, 'journal');
    pushVarint(bytes, r.layout_id, 'journal');
    pushVarint(bytes, r.vals.length, 'journal');
    for (const b of r.vals) bytes.push(b);
  }
  const payload = Buffer.from(bytes);
  const header = Buffer.allocUnsafe(HEADER);
  header.writeUInt32LE(payload.length, 0);
  header.writeUInt32LE(crc32(payload), 4);
  return Buffer.concat([header, payload]);
}

function decodePayload(hour: number, p: Buffer): JournalRow[] {
  const r = new VarintReader(p, 'journal');
  const n = r.varint();
  const rows: JournalRow[] = [];
  for (let i = 0; i < n; i++) {
    const meterId = r.varint();
    const ts = hour + r.varint();
    const layout = r.varint();
    const len = r.varint();
    if (r.pos + len > p.length) throw new Error('journal: truncated');
    rows.push({ meterId, ts, layout_id: layout, vals: p.subarray(r.pos, r.pos + len) });
    r.pos += len;
  }
  return rows;
}

export class RecentJournal {
  private readonly segments = new Map<number, Segment>();
  /** Set once this instance appends: the only writer sees everything it wrote and needs no re-reading. */
  private writer = false;
  private loaded = false;

  /** dir null: a database in memory keeps its journal in memory too. */
  constructor(readonly dir: string | null) {}

  /** Reads the files of the hours after uptoS (a connection does this once, when it opens). */
  load(uptoS: number): void {
    this.loaded = true;
    this.readFiles(uptoS);
  }

  /** Every row of the hours after uptoS's hour with ts > uptoS; syncs with what other processes appended. */
  rows(meterId: number, fromS: number, toS: number, uptoS: number): ReadingRow[] {
    this.refresh(uptoS);
    const out: ReadingRow[] = [];
    for (const seg of this.inOrder()) {
      if (seg.hour + HOUR_S <= fromS || seg.hour >= toS) continue;
      const mh = seg.meters.get(meterId);
      if (mh) rowsOf(mh, Math.max(fromS, uptoS + 1), toS, out);
    }
    return out;
  }

  /** Every row before beforeS and after uptoS, grouped by hour and meter (for the hourly move). */
  rowsBefore(beforeS: number, uptoS: number): { hour: number; meterId: number; rows: ReadingRow[] }[] {
    this.refresh(uptoS);
    const out: { hour: number; meterId: number; rows: ReadingRow[] }[] = [];
    for (const seg of this.inOrder()) {
      if (seg.hour >= beforeS) continue;
      for (const meterId of [...seg.meters.keys()].sort((a, b) => a - b)) {
        const rows = rowsOf(seg.meters.get(meterId) as MeterHour, uptoS + 1, beforeS, []);
        if (rows.length > 0) out.push({ hour: seg.hour, meterId, rows });
      }
    }
    return out;
  }

  /** Every row after uptoS, oldest hour first (the `readings` view). */
  *all(uptoS: number): Generator<JournalRow> {
    this.refresh(uptoS);
    for (const seg of this.inOrder()) {
      for (const [meterId, mh] of seg.meters) {
        for (let i = mh.indexOf(uptoS + 1); i < mh.ts.length; i++) yield { meterId, ...mh.row(i) };
      }
    }
  }

  /** The newest second held after uptoS, if any. */
  newestS(uptoS: number): number | undefined {
    let newest: number | undefined;
    for (const r of this.all(uptoS)) if (newest === undefined || r.ts > newest) newest = r.ts;
    return newest;
  }

  has(meterId: number, ts: number): boolean {
    return this.segments.get(hourOf(ts))?.meters.get(meterId)?.has(ts) ?? false;
  }

  isEmpty(uptoS: number): boolean {
    for (const _ of this.all(uptoS)) return false;
    return true;
  }

  /**
   * Appends rows (none a duplicate of a stored meter-second, none at or before the archive's end)
   * with one write per hour. If a write fails, the file is cut back to where it was and nothing is
   * kept, so the caller can try again with the same rows.
   */
  append(rows: readonly JournalRow[]): void {
    if (rows.length === 0) return;
    if (!this.loaded) throw new Error('journal: load() before append()');
    this.writer = true;
    const byHour = new Map<number, JournalRow[]>();
    for (const r of rows) {
      const h = hourOf(r.ts);
      const list = byHour.get(h) ?? [];
      list.push(r);
      byHour.set(h, list);
    }
    const written: { seg: Segment; rows: JournalRow[] }[] = [];
    for (const [hour, list] of byHour) {
      const seg = this.segment(hour);
      this.write(seg, encodeRecord(hour, list));
      written.push({ seg, rows: list });
    }
    for (const w of written) for (const r of w.rows) this.keep(w.seg, r);
  }

  /**
   * Appends one record at the segment's known end: a torn record left by a power cut is cut off
   * first, and a failed write is cut off again, so the file only ever ends in whole records. A
   * batch over several hours that fails in its second file leaves the first one's record: the
   * caller's retry finds those rows and skips them as duplicates.
   */
  private write(seg: Segment, rec: Buffer): void {
    if (this.dir === null) {
      seg.size += rec.length;
      return;
    }
    mkdirSync(this.dir, { recursive: true });
    const fd = openSync(path.join(this.dir, `${seg.hour}${EXT}`), constants.O_RDWR | constants.O_CREAT);
    try {
      if (fstatSync(fd).size !== seg.size) ftruncateSync(fd, seg.size);
      let done = 0;
      try {
        while (done < rec.length) done += writeSync(fd, rec, done, rec.length - done, seg.size + done);
      } catch (err) {
        ftruncateSync(fd, seg.size);
        throw err;
      }
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    seg.size += rec.length;
    fdatasync(fd, () => closeSync(fd));
  }

  /** After the hourly move: drops the moved rows from memory, and the files an hour after (readers may still be on them). */
  forget(beforeS: number): void {
    for (const hour of this.segments.keys()) if (hour + HOUR_S <= beforeS) this.segments.delete(hour);
    this.removeFiles((hour) => hour + 2 * HOUR_S <= beforeS);
  }

  close(): void {
    this.segments.clear();
  }

  /** The hours held, oldest first. */
  private inOrder(): Segment[] {
    return [...this.segments.values()].sort((a, b) => a.hour - b.hour);
  }

  private segment(hour: number): Segment {
    let seg = this.segments.get(hour);
    if (!seg) this.segments.set(hour, (seg = { hour, meters: new Map(), size: 0 }));
    return seg;
  }

  private keep(seg: Segment, r: JournalRow): void {
    let mh = seg.meters.get(r.meterId);
    if (!mh) seg.meters.set(r.meterId, (mh = new MeterHour()));
    if (!mh.has(r.ts)) mh.add(r.ts, r.layout_id, r.vals);
  }

  /** Drops hours another connection moved, and reads what other processes appended since the last look. */
  private refresh(uptoS: number): void {
    const archivedHour = hourOf(uptoS + 1);
    for (const hour of this.segments.keys()) if (hour + HOUR_S <= archivedHour) this.segments.delete(hour);
    if (!this.writer) this.readFiles(uptoS);
  }

  private readFiles(uptoS: number): void {
    const archivedHour = hourOf(uptoS + 1);
    for (const hour of this.fileHours()) if (hour + HOUR_S > archivedHour) this.readNew(this.segment(hour));
  }

  /** The hours that have a file in the journal's directory. */
  private fileHours(): number[] {
    if (this.dir === null) return [];
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    return names
      .filter((n) => n.endsWith(EXT))
      .map((n) => Number(n.slice(0, -EXT.length)))
      .filter(Number.isInteger);
  }

  private readNew(seg: Segment): void {
    if (this.dir === null) return;
    let fd: number;
    try {
      fd = openSync(path.join(this.dir, `${seg.hour}${EXT}`), 'r');
    } catch {
      return;
    }
    try {
      const size = fstatSync(fd).size;
      const header = Buffer.allocUnsafe(HEADER);
      while (seg.size + HEADER <= size) {
        readSync(fd, header, 0, HEADER, seg.size);
        const len = header.readUInt32LE(0);
        if (len > MAX_RECORD || seg.size + HEADER + len > size) return;
        const payload = Buffer.allocUnsafe(len);
        readSync(fd, payload, 0, len, seg.size + HEADER);
        if (crc32(payload) !== header.readUInt32LE(4)) return; // torn or damaged: stop here, the writer cuts it off
        for (const r of decodePayload(seg.hour, payload)) this.keep(seg, r);
        seg.size += HEADER + len;
      }
    } finally {
      closeSync(fd);
    }
  }

  private removeFiles(gone: (hour: number) => boolean): void {
    const dir = this.dir;
    if (dir === null) return;
    for (const hour of this.fileHours()) if (gone(hour) && !this.segments.has(hour)) rmSync(path.join(dir, `${hour}${EXT}`), { force: true });
  }
}
