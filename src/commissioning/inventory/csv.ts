import { ZonedClock } from '../../store/zoned-clock.js';
import { CSV_EOL, csvLine } from './csv-format.js';
import type { InventoryStatus } from './status.js';
import type { InventoryMeter } from './tables.js';

/** The Master Inventory Spreadsheet's required columns, in the guide's order. */
export const INVENTORY_CSV_COLUMNS = [
  'Meter Serial Number',
  'Meter Type',
  'Site Name',
  'Building/Customer',
  'Assigned Modbus Address',
  'Status',
  'Date Assigned',
  'Date Converted',
  'Date Installed',
  'Date Commissioned',
  'Converted By',
  'Installed By',
  'Commissioned By',
  'Notes',
] as const;
export type InventoryCsvColumn = (typeof INVENTORY_CSV_COLUMNS)[number];

export const INVENTORY_CSV_HEADER = INVENTORY_CSV_COLUMNS.join(',');

/** Which stage stamp each date and name column shows. The sheet has no Shipped date and no Assigned By. */
export const DATE_COLUMNS: ReadonlyArray<{ readonly column: InventoryCsvColumn; readonly stage: InventoryStatus; readonly by?: InventoryCsvColumn }> = [
  { column: 'Date Assigned', stage: 'Assigned' },
  { column: 'Date Converted', stage: 'Converted', by: 'Converted By' },
  { column: 'Date Installed', stage: 'Installed', by: 'Installed By' },
  { column: 'Date Commissioned', stage: 'Commissioned', by: 'Commissioned By' },
];

/** One row per meter, dates as YYYY-MM-DD in the site's time zone, lines ending CRLF as RFC 4180 says. */
export function inventoryCsv(meters: readonly InventoryMeter[], timeZone: string): string {
  const clock = new ZonedClock(timeZone);
  const rows = meters.map((m) => {
    const cells: Record<string, string> = {
      'Meter Serial Number': m.serial,
      'Meter Type': m.model,
      'Site Name': m.site,
      'Building/Customer': m.building,
      'Assigned Modbus Address': m.address === null ? '' : String(m.address),
      Status: m.status,
      Notes: m.notes,
    };
    for (const d of DATE_COLUMNS) {
      const stamp = m.stages[d.stage];
      cells[d.column] = stamp ? clock.day(stamp.at) : '';
      if (d.by) cells[d.by] = stamp?.by ?? '';
    }
    return csvLine(INVENTORY_CSV_COLUMNS.map((c) => cells[c] ?? ''));
  });
  return [INVENTORY_CSV_HEADER, ...rows].map((l) => l + CSV_EOL).join('');
}
