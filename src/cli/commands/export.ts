import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { intervalsCsv, readingsCsv } from '../../store/csv-export.js';
import { openDatabase } from '../../store/database.js';
import { calendarDateProblem } from '../../util/calendar-date.js';
import { UsageError } from '../usage-error.js';
import { siteFor } from './store-of.js';

export const EXPORT_HELP = `mgos export: write one meter's day as CSV (the field logger's columns)

  mgos export --config site.yaml --meter 12 --date 2026-04-04 [--out meter_012_2026-04-04.csv]
  mgos export --demo --meter 100 --date 2026-11-25 --intervals

  --meter N|meterN   the meter (its Modbus address / id)
  --date YYYY-MM-DD  the local day (site time zone)
  --intervals        15-minute intervals instead of every reading
  --out FILE         write to FILE instead of standard output`;

export async function exportCommand(argv: string[]): Promise<number> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      demo: { type: 'boolean' },
      data: { type: 'string' },
      meter: { type: 'string' },
      date: { type: 'string' },
      intervals: { type: 'boolean' },
      out: { type: 'string' },
    },
  });
  const site = siteFor(v);
  const id = Number((v.meter ?? '').replace(/^meter/, ''));
  if (!Number.isInteger(id) || id < 1 || id > 247) throw new UsageError('--meter: give the meter id (Modbus address), e.g. 12');
  if (!v.date) throw new UsageError('--date: give the day as YYYY-MM-DD');
  const dateProblem = calendarDateProblem(v.date);
  if (dateProblem) throw new UsageError(`--date: ${dateProblem}`);
  const db = openDatabase(site.storage.path);
  try {
    const lines = (v.intervals ? intervalsCsv : readingsCsv)(db, `meter${id}`, v.date, site.site.timezone, { meterLabel: id });
    const out = v.out ? createWriteStream(v.out) : process.stdout;
    for (const line of lines) if (!out.write(line)) await once(out, 'drain');
    if (v.out) {
      out.end();
      await once(out, 'finish');
      process.stderr.write(`wrote ${v.out}\n`);
    }
  } finally {
    db.close();
  }
  return 0;
}
