import { deflateRawSync, inflateRawSync, constants } from 'node:zlib';
import type { ReadingRow } from './registry.js';
import { pushVarint, VarintReader } from './varint.js';

/**
 * One meter's readings of one closed hour as one BLOB (a row of `readings_chunks`), written once
 * when the hour moves out of the journal (recent-journal.ts). A row per reading costs a key, a record header and
 * cell slack, and moving rows one by one into a per-meter b-tree rewrote a page per meter; a chunk
 * is appended, and compressed to about a third.
 *
 * Layout (version 1), all integers unsigned LEB128:
 *   u8 1 | n | n timestamps (the first as seconds after the chunk's start, then the step from the
 *   previous one) | runs | per run: layout id, bytes per row, rows | deflate-raw(values)
 * Timestamps stay outside the compressed part, so completeness and range scans read them without
 * inflating. Values: for each run of consecutive rows with one layout, each row's bytes XOR the
 * previous row's (slow-moving float bits become mostly zero, a channel missing in both rows is all
 * zero), then written as byte planes (byte k of every row together) so that deflate sees long
 * runs. Lossless: a row reads back with exactly the bytes it was written with.
 */
export const CHUNK_VERSION = 1;

/** Rows must be one meter's, sorted by ts, unique, all at or after startS. */
export function encodeChunk(startS: number, rows: readonly ReadingRow[]): Buffer {
  const head: number[] = [CHUNK_VERSION];
  pushVarint(head, rows.length, 'chunk');
  let prev = startS;
  for (const r of rows) {
    if (r.ts < prev) throw new Error(`chunk: rows out of order at ${r.ts}`);
    pushVarint(head, r.ts - prev, 'chunk');
    prev = r.ts;
  }
  const runs: { layout: number; len: number; from: number; count: number }[] = [];
  rows.forEach((r, i) => {
    const last = runs[runs.length - 1];
    if (last && last.layout === r.layout_id && last.len === r.vals.length) last.count++;
    else runs.push({ layout: r.layout_id, len: r.vals.length, from: i, count: 1 });
  });
  pushVarint(head, runs.length, 'chunk');
  let total = 0;
  for (const run of runs) {
    pushVarint(head, run.layout, 'chunk');
    pushVarint(head, run.len, 'chunk');
    pushVarint(head, run.count, 'chunk');
    total += run.len * run.count;
  }
  const planes = Buffer.alloc(total);
  let base = 0;
  for (const run of runs) {
    for (let j = 0; j < run.count; j++) {
      const cur = (rows[run.from + j] as ReadingRow).vals;
      const before = j > 0 ? (rows[run.from + j - 1] as ReadingRow).vals : undefined;
      for (let k = 0; k < run.len; k++) planes[base + k * run.count + j] = (cur[k] as number) ^ (before ? (before[k] as number) : 0);
    }
    base += run.len * run.count;
  }
  return Buffer.concat([Buffer.from(head), deflateRawSync(planes, { level: constants.Z_BEST_COMPRESSION })]);
}

interface Header {
  readonly times: number[];
  readonly runs: { layout: number; len: number; count: number }[];
  readonly valuesAt: number;
}

function readHeader(startS: number, data: Buffer, timesOnly: boolean): Header {
  const r = new VarintReader(data, 'chunk');
  const version = data[r.pos++];
  if (version !== CHUNK_VERSION) throw new Error(`chunk: unknown version ${String(version)}`);
  const n = r.varint();
  const times: number[] = new Array<number>(n);
  let t = startS;
  for (let i = 0; i < n; i++) {
    t += r.varint();
    times[i] = t;
  }
  const runs: Header['runs'] = [];
  if (!timesOnly) {
    const count = r.varint();
    for (let i = 0; i < count; i++) runs.push({ layout: r.varint(), len: r.varint(), count: r.varint() });
  }
  return { times, runs, valuesAt: r.pos };
}

/** Only the timestamps (unix seconds), without inflating the values. */
export function chunkTimes(startS: number, data: Buffer): number[] {
  return readHeader(startS, data, true).times;
}

/** Every row of a chunk, oldest first, with the bytes it was written with. */
export function decodeChunk(startS: number, data: Buffer): ReadingRow[] {
  const h = readHeader(startS, data, false);
  const planes = inflateRawSync(data.subarray(h.valuesAt));
  const out: ReadingRow[] = [];
  let base = 0;
  let i = 0;
  for (const run of h.runs) {
    let before: Buffer | undefined;
    for (let j = 0; j < run.count; j++) {
      const vals = Buffer.allocUnsafe(run.len);
      for (let k = 0; k < run.len; k++) vals[k] = (planes[base + k * run.count + j] as number) ^ (before ? (before[k] as number) : 0);
      out.push({ ts: h.times[i++] as number, layout_id: run.layout, vals });
      before = vals;
    }
    base += run.len * run.count;
  }
  if (i !== h.times.length) throw new Error('chunk: damaged (runs and timestamps disagree)');
  return out;
}
