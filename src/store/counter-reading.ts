import type { StoreDb } from './database.js';
import { readChannel } from './codec.js';
import { layoutLookup } from './registry.js';
import { readingRows } from './reading-rows.js';

/** Energy is polled every few cycles: look this many rows back for a poll that carried the counter. */
const SCAN_ROWS = 500;

/**
 * The newest (or, with `after`, the oldest) stored value of a counter channel before/after a time,
 * with its time; undefined when none is within reach. Used to continue and to check counters.
 */
export function counterReading(db: StoreDb, meterId: number, channel: string, atMs: number, after = false): { ts: number; value: number } | undefined {
  const lookup = layoutLookup(db);
  const at = after ? Math.ceil(atMs / 1000) : Math.floor(atMs / 1000);
  const rows = after ? readingRows(db, meterId, { fromS: at, limit: SCAN_ROWS }) : readingRows(db, meterId, { toS: at + 1, desc: true, limit: SCAN_ROWS });
  for (const r of rows) {
    const v = readChannel(lookup(r.layout_id), r.vals, channel);
    if (Number.isFinite(v)) return { ts: r.ts * 1000, value: v };
  }
  return undefined;
}
