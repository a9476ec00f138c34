import { ZonedClock } from '../../store/zoned-clock.js';
import { isCalendarDate as isDay } from '../../util/calendar-date.js';
import { restoreFormulaText } from '../../util/csv.js';
import type { UsedAddress } from '../address-plan.js';
import { CsvSyntaxError, parseCsv, type CsvRecord } from './csv-format.js';
import { DATE_COLUMNS, INVENTORY_CSV_COLUMNS, INVENTORY_CSV_HEADER, type InventoryCsvColumn } from './csv.js';
import { resolveModel, serialProblem, unknownModel } from './fields.js';
import { holdsAddress, parseStatus, STATUSES, type InventoryStatus } from './status.js';
import type { InventoryStore } from './store.js';
import type { InventoryMeter, Stamp } from './tables.js';

export interface CsvRowError {
  /** Spreadsheet row (the header is row 1); null for a file that cannot be read as CSV at all. */
  readonly row: number | null;
  readonly line: number;
  readonly column: InventoryCsvColumn | null;
  readonly value: string;
  /** What is wrong and how to fix it. */
  readonly message: string;
}

export class InventoryImportError extends Error {
  constructor(readonly errors: readonly CsvRowError[]) {
    const listed = errors.map((e) => `${e.row === null ? `line ${e.line}` : `row ${e.row}`}${e.column ? `, ${e.column}` : ''}: ${e.message}`);
    super(`nothing was imported; ${errors.length} problem${errors.length === 1 ? '' : 's'}: ${listed.join('; ')}`);
  }
}

/**
 * Imports the spreadsheet all or nothing: every row is checked (serial, type, status, address range
 * and uniqueness against the site config, the inventory and the file itself, dates), every problem is
 * reported, and only a clean file is written, in one transaction, with an "imported" history entry
 * per meter. Dates are read as local days in `timeZone`.
 */
export function importInventoryCsv(store: InventoryStore, text: string, by: string, timeZone = 'UTC'): { created: number; updated: number } {
  let records: CsvRecord[];
  try {
    records = parseCsv(text);
  } catch (e) {
    if (e instanceof CsvSyntaxError) throw new InventoryImportError([{ row: null, line: e.line, column: null, value: '', message: e.message }]);
    throw e;
  }
  const header = records[0];
  if (!header || header.fields.map((f) => f.trim()).join(',') !== INVENTORY_CSV_HEADER) {
    const found = header ? header.fields.join(',') : '(empty file)';
    throw new InventoryImportError([
      { row: 1, line: 1, column: null, value: found, message: `the first row must be exactly the header ${INVENTORY_CSV_HEADER}` },
    ]);
  }
  const errors: CsvRowError[] = [];
  const rows = new RowChecker(store, new ZonedClock(timeZone), by, errors).check(records.slice(1));
  // Reported in sheet order: by row, then left to right.
  const at = (e: CsvRowError): number => (e.row ?? 0) * 100 + (e.column === null ? -1 : INVENTORY_CSV_COLUMNS.indexOf(e.column));
  if (errors.length > 0) throw new InventoryImportError(errors.sort((a, b) => at(a) - at(b)));
  return store.importMeters(rows, by, 'imported from CSV');
}

class RowChecker {
  private readonly seenSerial = new Map<string, number>();
  private readonly fileAddresses: UsedAddress[] = [];

  constructor(
    private readonly store: InventoryStore,
    private readonly clock: ZonedClock,
    private readonly by: string,
    private readonly errors: CsvRowError[],
  ) {}

  /** The records the rows describe; rows with problems add to `errors` instead. */
  check(records: readonly CsvRecord[]): InventoryMeter[] {
    const good: InventoryMeter[] = [];
    const inFile = new Set(records.map((r) => r.fields[0]?.trim() ?? ''));
    records.forEach((rec, i) => {
      if (rec.fields.every((f) => f.trim() === '')) return; // blank rows at the end of a sheet
      const meter = this.row(rec, i + 2, inFile);
      if (meter) good.push(meter);
    });
    return good;
  }

  private row(rec: CsvRecord, row: number, inFile: ReadonlySet<string>): InventoryMeter | null {
    const before = this.errors.length;
    const fail = (column: InventoryCsvColumn | null, value: string, message: string): void => {
      this.errors.push({ row, line: rec.line, column, value, message });
    };
    if (rec.fields.length !== INVENTORY_CSV_COLUMNS.length) {
      fail(null, '', `has ${rec.fields.length} cells but the header has ${INVENTORY_CSV_COLUMNS.length}; put a cell containing a comma in double quotes`);
      return null;
    }
    // The export put a quote before text a spreadsheet would run as a formula; take it off again.
    const cell = (c: InventoryCsvColumn): string => restoreFormulaText(rec.fields[INVENTORY_CSV_COLUMNS.indexOf(c)] ?? '');

    const serial = cell('Meter Serial Number').trim();
    const serialError = serialProblem(serial);
    if (serialError) fail('Meter Serial Number', serial, serialError);
    const firstRow = this.seenSerial.get(serial);
    if (!serialError && firstRow !== undefined) fail('Meter Serial Number', serial, `serial ${serial} is also on row ${firstRow}; each meter appears once`);
    this.seenSerial.set(serial, firstRow ?? row);

    const model = resolveModel(this.store.models, cell('Meter Type'));
    if (!model) fail('Meter Type', cell('Meter Type'), unknownModel(this.store.models, cell('Meter Type')));

    const status = parseStatus(cell('Status'));
    if (!status) fail('Status', cell('Status'), `unknown status "${cell('Status')}"; allowed: ${STATUSES.join(', ')}`);

    const address = this.address(cell('Assigned Modbus Address'), status, fail);
    const stamps = this.stages(cell, fail);
    const prev = serialError ? undefined : this.store.get(serial);
    const site = cell('Site Name').trim() || this.store.localSite;
    const bus = prev?.bus ?? null;
    if (model && status && address !== null && holdsAddress(status)) this.addressFree({ serial, model, site, bus, status }, address, row, inFile, fail);
    if (this.errors.length > before || !model || !status || stamps === null) return null;

    const stages: Partial<Record<InventoryStatus, Stamp>> = { ...(prev?.stages ?? { Unassigned: { at: this.store.now(), by: this.by } }) };
    for (const d of DATE_COLUMNS) {
      const s = stamps.get(d.stage) ?? null;
      const kept = prev?.stages[d.stage];
      // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- a record of the fixed statuses, stored as JSON: a cleared date drops its key
      if (s === null) delete stages[d.stage];
      // The same day as stored keeps the stored time (and name, where the sheet has no name column).
      else if (kept && this.clock.day(kept.at) === this.clock.day(s.at)) stages[d.stage] = { at: kept.at, by: d.by ? s.by : kept.by };
      else stages[d.stage] = s;
    }
    return { serial, model, site, building: cell('Building/Customer').trim(), bus, address, status, notes: cell('Notes'), stages };
  }

  private address(text: string, status: InventoryStatus | undefined, fail: (c: InventoryCsvColumn, v: string, m: string) => void): number | null {
    const t = text.trim();
    if (t === '') {
      if (status && holdsAddress(status))
        fail('Assigned Modbus Address', t, `a meter that is ${status} has an address; fill it in, or set Status to Unassigned`);
      return null;
    }
    if (!/^\d{1,3}$/.test(t)) {
      fail('Assigned Modbus Address', t, 'not a whole number; write the Modbus address, e.g. 12');
      return null;
    }
    if (status === 'Unassigned') fail('Assigned Modbus Address', t, 'an Unassigned meter has no address; clear the cell, or set Status to Assigned');
    return Number(t);
  }

  /** Stage stamps from the date and name columns, or null when a cell is wrong. */
  private stages(cell: (c: InventoryCsvColumn) => string, fail: (c: InventoryCsvColumn, v: string, m: string) => void): Map<InventoryStatus, Stamp> | null {
    const out = new Map<InventoryStatus, Stamp>();
    let ok = true;
    for (const d of DATE_COLUMNS) {
      const date = cell(d.column).trim();
      const name = d.by ? cell(d.by).trim() : '';
      if (date === '') {
        if (name !== '' && d.by) {
          ok = false;
          fail(d.column, date, `${d.by} is filled in but ${d.column} is empty; add the date (YYYY-MM-DD) or clear the name`);
        }
        continue;
      }
      if (!isDay(date)) {
        ok = false;
        fail(d.column, date, 'not a date; write YYYY-MM-DD, e.g. 2026-04-01');
        continue;
      }
      out.set(d.stage, { at: this.clock.dayRange(date)[0], by: name || null });
    }
    return ok ? out : null;
  }

  /** The address against the site config, meters not in this file, and the file's earlier rows. */
  private addressFree(
    m: Pick<InventoryMeter, 'serial' | 'model' | 'site' | 'bus' | 'status'>,
    address: number,
    row: number,
    inFile: ReadonlySet<string>,
    fail: (c: InventoryCsvColumn, v: string, msg: string) => void,
  ): void {
    const slot = this.store.slot(m.site, m.bus);
    // A meter the sheet says is on the bus (Commissioned) is the configured meter at its address, as
    // when the commissioning transition is made in the inventory itself.
    const onTheBus = m.status === 'Commissioned';
    const r = this.store.addressPlan.check(slot, this.store.phasesOf(m.model), address, {
      // Meters in this file are checked as the file says they will be, not as they are stored.
      ignore: (u) => (u.serial !== undefined && inFile.has(u.serial)) || (onTheBus && u.serial === undefined),
      extra: this.fileAddresses,
    });
    if (r.ok) this.fileAddresses.push({ ...slot, address, by: `row ${row} (meter ${m.serial})` });
    else fail('Assigned Modbus Address', String(address), r.reason);
  }
}
