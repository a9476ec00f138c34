/**
 * Ingest: 100 meters x 12 channels polled every 10 s, written through ReadingWriter with a flush
 * every 3 polls (30 s), on a real file. Prints channel values stored per second against the 50,000/s
 * goal, and the bytes a stored poll takes on disk (b-tree slack included) with what that means for
 * an SD card: 90 days of 100 meters at 10 s, for a single-phase DDSU666 (8 channels), these 12, and a
 * three-phase DTSU666 (24).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { openDatabase } from '../src/store/database.js';
import { ReadingWriter } from '../src/store/reading-writer.js';

const GOAL_VALUES_PER_S = 50_000;
const METERS = 100;
const POLL_MS = 10_000;
const POLLS_PER_FLUSH = 3;

const DDSU666 = ['Voltage_L1', 'Current_L1', 'ActivePower', 'ReactivePower', 'PowerFactor', 'Frequency', 'EnergyImport', 'EnergyExport'];
const TWELVE = [
  'Voltage_L1',
  'Voltage_L2',
  'Voltage_L3',
  'Current_L1',
  'Current_L2',
  'Current_L3',
  'ActivePower',
  'ReactivePower',
  'PowerFactor',
  'Frequency',
  'EnergyImport',
  'EnergyExport',
];
// What a DTSU666 delivers: 22 float32 channels and 2 counters.
const THREE_PHASE = [
  ...TWELVE,
  'Voltage_L12',
  'Voltage_L23',
  'Voltage_L31',
  'ActivePower_L1',
  'ActivePower_L2',
  'ActivePower_L3',
  'ReactivePower_L1',
  'ReactivePower_L2',
  'ReactivePower_L3',
  'PowerFactor_L1',
  'PowerFactor_L2',
  'PowerFactor_L3',
];

interface Pass {
  valuesPerS: number;
  bytesPerRow: number;
}

function ingest(channels: readonly string[], polls: number): Pass {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-bench-ingest-'));
  const file = path.join(dir, 'mgos.db');
  const db = openDatabase(file);
  try {
    const w = new ReadingWriter(db);
    const start = Date.UTC(2026, 0, 1);
    const counters = new Float64Array(METERS).map((_, m) => 1000 * m);
    const t0 = performance.now();
    for (let p = 0; p < polls; p++) {
      for (let m = 0; m < METERS; m++) {
        counters[m] = (counters[m] ?? 0) + Math.random() * 0.01;
        const values: Record<string, number> = {};
        for (const c of channels) values[c] = c.startsWith('Energy') ? (counters[m] ?? 0) : 230 * Math.random();
        w.add({ meter: `meter${m}`, ts: start + p * POLL_MS, values });
      }
      if ((p + 1) % POLLS_PER_FLUSH === 0) w.flush();
    }
    w.flush();
    const seconds = (performance.now() - t0) / 1000;
    db.pragma('wal_checkpoint(TRUNCATE)');
    const rows = polls * METERS;
    return { valuesPerS: (rows * channels.length) / seconds, bytesPerRow: statSync(file).size / rows };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const gbFor90Days = (bytesPerRow: number): number => (bytesPerRow * METERS * (86_400_000 / POLL_MS) * 90) / 1e9;

export function run(polls = Number(process.env.BENCH_INGEST_POLLS ?? 3000)): Record<string, number | string> {
  const twelve = ingest(TWELVE, polls);
  const single = ingest(DDSU666, Math.ceil(polls / 3));
  const full = ingest(THREE_PHASE, Math.ceil(polls / 3));
  return {
    'readings stored (12 channels)': polls * METERS,
    'values/s stored': Math.round(twelve.valuesPerS),
    'values/s / 50,000 goal': round(twelve.valuesPerS / GOAL_VALUES_PER_S),
    'bytes per poll, 8 channels (DDSU666)': round(single.bytesPerRow),
    'GB for 90 days of 100 meters, 8 channels': round(gbFor90Days(single.bytesPerRow)),
    'bytes per poll, 12 channels': round(twelve.bytesPerRow),
    'GB for 90 days of 100 meters, 12 channels': round(gbFor90Days(twelve.bytesPerRow)),
    'bytes per poll, 24 channels (DTSU666)': round(full.bytesPerRow),
    'GB for 90 days of 100 meters, 24 channels': round(gbFor90Days(full.bytesPerRow)),
  };
}

const round = (x: number): number => Math.round(x * 100) / 100;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.table(run());
}
