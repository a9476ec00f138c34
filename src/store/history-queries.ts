import { csvText, intervalsCsv, readingsCsv } from './csv-export.js';
import type { StoreDb } from './database.js';
import { dailyEnergy, intervals, rawSeries } from './history.js';

/**
 * The heavy read queries of the history API, as serialised response bodies. They run in the query
 * worker (history-worker.ts) so that no history or CSV request blocks the thread that polls the bus
 * and records readings; returning text means the request thread does not serialise big arrays either.
 */
// A type, not an interface: a query map needs the implicit index signature (QueryMap).
export type HistoryQueries = {
  readonly raw: (meter: string, channel: string, unit: string, fromMs: number, toMs: number) => string;
  readonly intervals: (meter: string, fromMs: number, toMs: number) => string;
  readonly daily: (meter: string, fromMs: number, toMs: number, timeZone: string) => string;
  readonly csv: (kind: 'readings' | 'intervals', meter: string, day: string, timeZone: string, meterLabel: number | undefined) => string;
};

export type HistoryQuery = keyof HistoryQueries;

export function historyQueries(db: StoreDb): HistoryQueries {
  return {
    raw: (meter, channel, unit, fromMs, toMs) => JSON.stringify({ channel, unit, points: rawSeries(db, meter, channel, fromMs, toMs) }),
    intervals: (meter, fromMs, toMs) =>
      JSON.stringify({
        intervals: intervals(db, meter, fromMs, toMs).map((r) => ({
          start: r.startMs,
          importKWh: r.energyImportKWh,
          exportKWh: r.energyExportKWh,
          pAvgW: r.powerAvgW,
          pMinW: r.powerMinW,
          pMaxW: r.powerMaxW,
          vMinV: r.voltageMinV,
          vMaxV: r.voltageMaxV,
          samples: r.samples,
        })),
      }),
    daily: (meter, fromMs, toMs, timeZone) => JSON.stringify({ days: dailyEnergy(db, meter, fromMs, toMs, timeZone) }),
    csv: (kind, meter, day, timeZone, meterLabel) => csvText((kind === 'readings' ? readingsCsv : intervalsCsv)(db, meter, day, timeZone, { meterLabel })),
  };
}
