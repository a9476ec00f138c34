/**
 * History query: a year of 15-minute intervals for one meter (35,040 rows) in a file that also holds
 * other meters' years. Prints the median query time against the 50 ms goal, for intervals() and for
 * dailyEnergy() over the same year (the daily chart), and rawSeries() over a day of 10 s readings.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { openDatabase, type StoreDb } from '../src/store/database.js';
import { ReadingWriter } from '../src/store/reading-writer.js';
import { insertIntervals } from '../src/store/interval-table.js';
import { INTERVAL_MS, type IntervalRow } from '../src/store/interval-calc.js';
import { dailyEnergy, intervals, rawSeries } from '../src/store/history.js';

const GOAL_MS = 50;
const YEAR_ROWS = 35_040;
const RUNS = 9;

function median(fn: () => unknown): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(RUNS / 2)] ?? NaN;
}

function yearOfIntervals(start: number): IntervalRow[] {
  return Array.from({ length: YEAR_ROWS }, (_, i) => ({
    startMs: start + i * INTERVAL_MS,
    energyImportKWh: Math.random() * 0.5,
    energyExportKWh: 0,
    powerAvgW: 1000 * Math.random(),
    powerMinW: 100,
    powerMaxW: 2000,
    voltageMinV: 221.5,
    voltageMaxV: 238.25,
    samples: 90,
  }));
}

function fill(db: StoreDb, meters: number, start: number): void {
  const w = new ReadingWriter(db);
  for (let m = 0; m < meters; m++) w.add({ meter: `meter${m}`, ts: start, values: { ActivePower: 0 } });
  // A day of 10 s readings for meter0, for the raw-series figure.
  for (let i = 1; i < 8640; i++) w.add({ meter: 'meter0', ts: start + i * 10_000, values: { ActivePower: i, Voltage_L1: 230, EnergyImport: i / 360 } });
  w.flush();
  const ids = db.prepare('SELECT id FROM meters ORDER BY id').all() as { id: number }[];
  for (const { id } of ids) insertIntervals(db, id, yearOfIntervals(start));
}

export function run(meters = Number(process.env.BENCH_HISTORY_METERS ?? 10)): Record<string, number | string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-bench-history-'));
  const db = openDatabase(path.join(dir, 'mgos.db'));
  try {
    const start = Date.UTC(2025, 0, 1);
    const end = start + 365 * 86_400_000;
    fill(db, meters, start);
    const rows = intervals(db, 'meter0', start, end).length;
    if (rows !== YEAR_ROWS) throw new Error(`expected ${YEAR_ROWS} intervals, got ${rows}`);
    const intervalsMs = median(() => intervals(db, 'meter0', start, end));
    const dailyMs = median(() => dailyEnergy(db, 'meter0', start, end, 'Africa/Kampala'));
    const rawMs = median(() => rawSeries(db, 'meter0', 'ActivePower', start, start + 86_400_000));
    return {
      'meters in file (a year of intervals each)': meters,
      'intervals(): rows': rows,
      'intervals(): median ms': round(intervalsMs),
      'intervals() / 50 ms goal': round(intervalsMs / GOAL_MS),
      'dailyEnergy() over the year: median ms': round(dailyMs),
      'dailyEnergy() / 50 ms goal': round(dailyMs / GOAL_MS),
      'rawSeries() one day of 10 s (8,640 points): median ms': round(rawMs),
    };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const round = (x: number): number => Math.round(x * 100) / 100;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.table(run());
}
