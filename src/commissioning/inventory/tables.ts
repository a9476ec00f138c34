import type Database from 'better-sqlite3';
import { STATUSES, type InventoryStatus } from './status.js';

/** When a meter entered a stage, and who did it (null when imported without a name). */
export interface Stamp {
  readonly at: number;
  readonly by: string | null;
}

export interface InventoryMeter {
  readonly serial: string;
  readonly model: string;
  readonly site: string;
  /** Building or customer, as the spreadsheet's Building/Customer column. */
  readonly building: string;
  readonly bus: string | null;
  readonly address: number | null;
  readonly status: InventoryStatus;
  readonly notes: string;
  /** The latest entry into each stage reached (Unassigned = received). */
  readonly stages: Partial<Record<InventoryStatus, Stamp>>;
}

export type HistoryAction = 'created' | 'transition' | 'edited' | 'imported';

export interface HistoryEntry {
  readonly id: number;
  readonly serial: string;
  readonly at: number;
  readonly by: string;
  readonly action: HistoryAction;
  readonly from: InventoryStatus | null;
  readonly to: InventoryStatus | null;
  readonly reason: string;
  /** Fields that changed: name -> [before, after]. */
  readonly changes: Record<string, readonly [unknown, unknown]>;
}

const col = (s: InventoryStatus): string => s.toLowerCase();
const statusList = STATUSES.map((s) => `'${s}'`).join(',');

/** Own tables, created on first use like the user store's; history cannot be changed or deleted. */
export function createInventoryTables(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS inventory_meters (
      serial TEXT PRIMARY KEY CHECK (length(serial) = 12 AND serial NOT GLOB '*[^0-9]*'),
      model TEXT NOT NULL,
      site TEXT NOT NULL DEFAULT '',
      building TEXT NOT NULL DEFAULT '',
      bus TEXT,
      address INTEGER CHECK (address BETWEEN 1 AND 247),
      status TEXT NOT NULL CHECK (status IN (${statusList})),
      notes TEXT NOT NULL DEFAULT '',
      ${STATUSES.map((s) => `${col(s)}_at INTEGER, ${col(s)}_by TEXT`).join(',\n      ')}
    );
    CREATE TABLE IF NOT EXISTS inventory_history (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      serial TEXT NOT NULL REFERENCES inventory_meters(serial),
      at INTEGER NOT NULL,
      by TEXT NOT NULL,
      action TEXT NOT NULL CHECK (action IN ('created','transition','edited','imported')),
      from_status TEXT,
      to_status TEXT,
      reason TEXT NOT NULL DEFAULT '',
      changes TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX IF NOT EXISTS inventory_history_serial ON inventory_history(serial, id);
    CREATE TRIGGER IF NOT EXISTS inventory_history_no_update BEFORE UPDATE ON inventory_history
      BEGIN SELECT RAISE(ABORT, 'inventory history is append-only'); END;
    CREATE TRIGGER IF NOT EXISTS inventory_history_no_delete BEFORE DELETE ON inventory_history
      BEGIN SELECT RAISE(ABORT, 'inventory history is append-only'); END;`);
}

export type MeterRow = Record<string, string | number | null>;

export function meterFromRow(r: MeterRow): InventoryMeter {
  const stages: Partial<Record<InventoryStatus, Stamp>> = {};
  for (const s of STATUSES) {
    const at = r[`${col(s)}_at`];
    if (typeof at === 'number') stages[s] = { at, by: (r[`${col(s)}_by`] as string | null) ?? null };
  }
  return {
    serial: r.serial as string,
    model: r.model as string,
    site: r.site as string,
    building: r.building as string,
    bus: (r.bus as string | null) ?? null,
    address: (r.address as number | null) ?? null,
    status: r.status as InventoryStatus,
    notes: r.notes as string,
    stages,
  };
}

/** Named parameters for UPSERT_METER: a whole record is written at once, so it is never half-updated. */
export function rowFromMeter(m: InventoryMeter): MeterRow {
  const row: MeterRow = {
    serial: m.serial,
    model: m.model,
    site: m.site,
    building: m.building,
    bus: m.bus,
    address: m.address,
    status: m.status,
    notes: m.notes,
  };
  for (const s of STATUSES) {
    row[`${col(s)}_at`] = m.stages[s]?.at ?? null;
    row[`${col(s)}_by`] = m.stages[s]?.by ?? null;
  }
  return row;
}

const COLUMNS = ['serial', 'model', 'site', 'building', 'bus', 'address', 'status', 'notes', ...STATUSES.flatMap((s) => [`${col(s)}_at`, `${col(s)}_by`])];
// An upsert, not INSERT OR REPLACE: replacing deletes the row, which the history's foreign key forbids.
export const UPSERT_METER = `INSERT INTO inventory_meters (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((c) => `@${c}`).join(', ')})
  ON CONFLICT (serial) DO UPDATE SET ${COLUMNS.slice(1)
    .map((c) => `${c} = excluded.${c}`)
    .join(', ')}`;

interface HistoryRow {
  id: number;
  serial: string;
  at: number;
  by: string;
  action: HistoryAction;
  from_status: InventoryStatus | null;
  to_status: InventoryStatus | null;
  reason: string;
  changes: string;
}

export function historyFromRow(r: HistoryRow): HistoryEntry {
  return {
    id: r.id,
    serial: r.serial,
    at: r.at,
    by: r.by,
    action: r.action,
    from: r.from_status,
    to: r.to_status,
    reason: r.reason,
    changes: JSON.parse(r.changes) as HistoryEntry['changes'],
  };
}
