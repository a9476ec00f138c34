import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { tempDb } from './helpers/temp-db.js';
import { ReadingWriter } from '../src/store/reading-writer.js';
import { buildIntervals } from '../src/store/intervals.js';
import { csvText, intervalsCsv, readingsCsv } from '../src/store/csv-export.js';

const TZ = 'Africa/Kampala';
const HEADER =
  'timestamp,meter_id,V_L1_V,V_L2_V,V_L3_V,I_L1_A,I_L2_A,I_L3_A,P_total_kW,P_L1_kW,P_L2_kW,P_L3_kW,Q_total_kvar,PF_total,F_Hz,E_total_kWh,E_export_kWh,E_age_s';

test('readings CSV: the seed logger header and hand-checked rows, local time, kW, empty cells for missing channels', (t) => {
  const db = tempDb(t);
  const w = new ReadingWriter(db);
  // 15:15:00 in Kampala; single-phase meter as in the field logger's sample row.
  w.add({ meter: 'meter10', ts: Date.parse('2026-04-04T12:15:00Z'), values: { Voltage_L1: 234.5, Current_L1: 2.1, ActivePower: 490, EnergyImport: 12345.6 } });
  w.add({
    meter: 'meter10',
    ts: Date.parse('2026-04-04T12:15:10Z'),
    values: {
      Voltage_L1: 230.1,
      Voltage_L2: 231.2,
      Voltage_L3: 229.8,
      Current_L1: 1.5,
      Current_L2: 2.25,
      Current_L3: 0.75,
      ActivePower: 1234.5,
      ActivePower_L1: 400,
      ActivePower_L2: 500.5,
      ActivePower_L3: 334,
      ReactivePower: -150,
      PowerFactor: 0.987,
      Frequency: 50.02,
      EnergyImport: 12345.67,
      EnergyExport: 1.25,
    },
  });
  // Outside the local day: 00:00 on 5 April in Kampala is 21:00 UTC on the 4th.
  w.add({ meter: 'meter10', ts: Date.parse('2026-04-04T21:00:00Z'), values: { ActivePower: 1 } });
  w.add({ meter: 'meter10', ts: Date.parse('2026-04-03T20:59:59Z'), values: { ActivePower: 1 } });
  w.flush();
  const text = csvText(readingsCsv(db, 'meter10', '2026-04-04', TZ, { meterLabel: 10 }));
  assert.equal(
    text,
    `${HEADER}\n` +
      '2026-04-04 15:15:00,10,234.5,,,2.1,,,0.49,,,,,,,12345.6,,0\n' +
      '2026-04-04 15:15:10,10,230.1,231.2,229.8,1.5,2.25,0.75,1.2345,0.4,0.5005,0.334,-0.15,0.987,50.02,12345.67,1.25,0\n',
  );
  assert.equal(csvText(readingsCsv(db, 'nobody', '2026-04-04', TZ)), `${HEADER}\n`);
});

test('readings CSV streams a full day of 10 s readings (8,640 rows) in pages', async (t) => {
  const db = tempDb(t);
  const w = new ReadingWriter(db);
  const start = Date.parse('2026-04-03T21:00:00Z');
  for (let i = 0; i < 8640; i++) w.add({ meter: 'meter10', ts: start + i * 10_000, values: { ActivePower: i, EnergyImport: i / 100 } });
  w.flush();
  let lines = 0;
  const recorder = new ReadingWriter(db);
  for await (const chunk of Readable.from(readingsCsv(db, 'meter10', '2026-04-04', TZ))) {
    lines += String(chunk).split('\n').length - 1;
    // Paging leaves the connection free: the recorder can write while a slow client downloads.
    recorder.add({ meter: 'meter11', ts: start + lines * 1000, values: { ActivePower: 1 } });
    recorder.flush();
  }
  assert.equal(lines, 8641);
  assert.equal(recorder.pendingCount, 0);
});

test('interval CSV: header and a hand-checked row', (t) => {
  const db = tempDb(t);
  const w = new ReadingWriter(db);
  const start = Date.parse('2026-04-04T12:00:00Z'); // 15:00 in Kampala
  for (let k = 0; k <= 15; k++) {
    w.add({
      meter: 'meter10',
      ts: start + k * 60_000,
      values: { ActivePower: k === 7 ? 2500 : 500, Voltage_L1: k === 2 ? 226.5 : 231, EnergyImport: 10 + 0.01 * k },
    });
  }
  w.flush();
  buildIntervals(db, start + 60 * 60_000);
  const lines = csvText(intervalsCsv(db, 'meter10', '2026-04-04', TZ, { meterLabel: 10 })).split('\n');
  assert.equal(lines[0], 'interval_start,meter_id,E_import_kWh,E_export_kWh,P_avg_kW,P_min_kW,P_max_kW,V_min_V,V_max_V,samples');
  // 15 samples: 14 x 500 W + 2500 W = 9500 W / 15 = 633.333 W; energy 0.15 kWh; no export counter.
  assert.equal(lines[1], '2026-04-04 15:00:00,10,0.15,,0.633333,0.5,2.5,226.5,231,15');
  assert.equal(lines[2], '2026-04-04 15:15:00,10,0,,0.5,0.5,0.5,231,231,1');
});
