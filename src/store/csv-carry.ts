import type { StoreDb } from './database.js';
import { parseLayout, readChannel } from './codec.js';
import type { LayoutLookup } from './registry.js';
import { readingRows } from './reading-rows.js';

/**
 * Energy counters are read in a slow group (every 6th poll), so 5 stored rows in 6 have none. The
 * field logger's CSV had energy on every row and its users compute consumption from any two rows,
 * so the export carries the last value read forward and says how old it is (E_age_s, seconds since
 * the counter was read; 0 when read in that row's own poll; empty while none is known).
 */
export const CARRIED_CHANNELS: readonly string[] = ['EnergyImport', 'EnergyExport'];
export const ENERGY_AGE_HEADER = 'E_age_s';

/** A carried value older than this is not worth showing: the first rows stay empty instead. */
const LOOKBACK_S = 86_400;
/** Rows looked at before the day for a counter value: a handful of energy reads, never a scan. */
const LOOKBACK_ROWS = 100;

interface Carried {
  readonly value: number;
  /** Unix seconds when it was read. */
  readonly ts: number;
}

export class EnergyCarry {
  private readonly last = new Map<string, Carried>();

  /** Starts from the last counter values stored before `beforeS` (the day's first row). */
  static before(db: StoreDb, meterId: number, beforeS: number, lookup: LayoutLookup): EnergyCarry {
    const carry = new EnergyCarry();
    const withEnergy = db
      .prepare<[], { id: number; spec: string }>('SELECT id, spec FROM layouts')
      .all()
      .filter((l) => CARRIED_CHANNELS.some((c) => parseLayout(l.spec).index.has(c)))
      .map((l) => l.id);
    if (withEnergy.length === 0) return carry;
    // Newest first: the first finite value of each channel is the one to carry.
    for (const r of readingRows(db, meterId, { fromS: beforeS - LOOKBACK_S, toS: beforeS, desc: true, limit: LOOKBACK_ROWS, layouts: new Set(withEnergy) })) {
      const layout = lookup(r.layout_id);
      for (const c of CARRIED_CHANNELS) {
        const v = readChannel(layout, r.vals, c);
        if (!carry.last.has(c) && Number.isFinite(v)) carry.last.set(c, { value: v, ts: r.ts });
      }
      if (carry.last.size === CARRIED_CHANNELS.length) break;
    }
    return carry;
  }

  /**
   * One row: `read` gives the row's own values (NaN where missing). Returns the value to write per
   * channel (carried ones filled in) and the age in seconds of the oldest carried value, or null.
   */
  row(ts: number, read: (channel: string) => number): { value: (channel: string) => number; ageS: number | null } {
    let ageS: number | null = null;
    for (const c of CARRIED_CHANNELS) {
      const v = read(c);
      if (Number.isFinite(v)) this.last.set(c, { value: v, ts });
      const kept = this.last.get(c);
      if (kept) ageS = Math.max(ageS ?? 0, ts - kept.ts);
    }
    return { value: (c) => (CARRIED_CHANNELS.includes(c) ? (this.last.get(c)?.value ?? NaN) : read(c)), ageS };
  }
}
