import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadProfiles } from '../src/drivers/profiles.js';
import { Recorder } from '../src/recorder/recorder.js';
import { SiteRuntime } from '../src/site/site-runtime.js';
import { csvText, readingsCsv } from '../src/store/csv-export.js';
import { ReadingWriter } from '../src/store/reading-writer.js';
import { startSimSite } from './helpers/site.js';
import { tempDb } from './helpers/temp-db.js';

const TZ = 'Africa/Kampala';
/** 15:00 local on a fixed day: nothing here depends on today. */
const T0 = Date.parse('2026-04-04T12:00:00Z');

const rowsOf = (text: string): Record<string, string>[] => {
  const [head, ...lines] = text.trim().split('\n');
  const names = (head ?? '').split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [names[i] ?? '', v])));
};

test('readings CSV from the real poller: energy on every row, with the age of the value carried', async (t) => {
  let now = T0;
  const clock = (): number => now;
  const s = await startSimSite({ customers: 2, timeoutMs: 100, sim: { clock } });
  const db = tempDb(t);
  const recorder = new Recorder(db, { flushIntervalMs: 0, rawRetentionDays: 90, now: clock });
  const site = new SiteRuntime(s.config, loadProfiles(), recorder, clock);
  t.after(async () => {
    await site.stop();
    await s.close();
  });
  const poller = site.pollers()[0];
  assert.ok(poller);
  for (let i = 0; i < 13; i++) {
    await poller.runCycle();
    now += 10_000;
  }
  recorder.flushAndBuild();
  const rows = rowsOf(csvText(readingsCsv(db, 'meter2', '2026-04-04', TZ)));
  assert.equal(rows.length, 13);
  // Energy is read every 6th poll, so ages run 0, 10, ..., 50 s and back to 0.
  const read = rows.filter((r) => r.E_age_s === '0').length;
  assert.ok(read >= 3 && read <= 4, `energy read in ${read} of 13 polls`);
  for (const r of rows) {
    assert.match(r.E_total_kWh ?? '', /^\d+(\.\d+)?$/, `energy on every row: ${JSON.stringify(r)}`);
    assert.match(r.E_export_kWh ?? '', /^\d+(\.\d+)?$/);
    assert.ok(['0', '10', '20', '30', '40', '50'].includes(r.E_age_s ?? ''), `age ${r.E_age_s}`);
  }
  // A carried value is the one read before, unchanged, until the next read.
  for (let i = 1; i < rows.length; i++) {
    if (rows[i]?.E_age_s !== '0') assert.equal(rows[i]?.E_total_kWh, rows[i - 1]?.E_total_kWh);
  }
});

test('readings CSV: the first rows of a day carry the counter read before midnight, with its age', (t) => {
  const db = tempDb(t);
  const w = new ReadingWriter(db);
  // 23:59:30 on 3 April in Kampala (UTC+3): energy read; then polls after midnight without energy.
  w.add({ meter: 'meter10', ts: Date.parse('2026-04-03T20:59:30Z'), values: { ActivePower: 100, EnergyImport: 50.25, EnergyExport: 0 } });
  w.add({ meter: 'meter10', ts: Date.parse('2026-04-03T21:00:10Z'), values: { ActivePower: 110 } });
  w.add({ meter: 'meter10', ts: Date.parse('2026-04-03T21:00:20Z'), values: { ActivePower: 120, EnergyImport: 50.26, EnergyExport: 0 } });
  w.flush();
  const rows = rowsOf(csvText(readingsCsv(db, 'meter10', '2026-04-04', TZ)));
  assert.deepEqual(
    rows.map((r) => [r.timestamp, r.E_total_kWh, r.E_export_kWh, r.E_age_s]),
    [
      ['2026-04-04 00:00:10', '50.25', '0', '40'],
      ['2026-04-04 00:00:20', '50.26', '0', '0'],
    ],
  );
  // A meter that never read energy leaves the cells and the age empty.
  w.add({ meter: 'meter11', ts: Date.parse('2026-04-04T09:00:00Z'), values: { ActivePower: 1 } });
  w.flush();
  assert.deepEqual(
    rowsOf(csvText(readingsCsv(db, 'meter11', '2026-04-04', TZ))).map((r) => [r.E_total_kWh, r.E_age_s]),
    [['', '']],
  );
});
