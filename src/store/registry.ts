import type { StoreDb } from './database.js';
import { parseLayout, type Layout } from './codec.js';

/** Read-side lookups. Stateless on purpose: both tables are tiny, and readers may run in other processes. */
export function meterIdOf(db: StoreDb, meter: string): number | undefined {
  const row = db.prepare<[string], { id: number }>('SELECT id FROM meters WHERE key = ?').get(meter);
  return row?.id;
}

export function meterKeys(db: StoreDb): string[] {
  return db
    .prepare<[], { key: string }>('SELECT key FROM meters ORDER BY key')
    .all()
    .map((r) => r.key);
}

function loadLayouts(db: StoreDb): Map<number, Layout> {
  const rows = db.prepare<[], { id: number; spec: string }>('SELECT id, spec FROM layouts').all();
  return new Map(rows.map((r) => [r.id, parseLayout(r.spec)]));
}

export type LayoutLookup = (id: number) => Layout;

/** Layouts by id for one query; reloads once if the writer added one meanwhile. */
export function layoutLookup(db: StoreDb): LayoutLookup {
  let layouts = loadLayouts(db);
  return (id) => {
    let layout = layouts.get(id);
    if (!layout) {
      layouts = loadLayouts(db);
      layout = layouts.get(id);
    }
    if (!layout) throw new Error(`readings refer to unknown layout ${id}: the store file is damaged`);
    return layout;
  };
}

/** A stored row as it comes from SQLite. */
export interface ReadingRow {
  readonly ts: number;
  readonly layout_id: number;
  readonly vals: Buffer;
}
