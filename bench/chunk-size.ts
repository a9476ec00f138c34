/** Size of the hourly chunk BLOBs for simulated meters at 10 s (energy every 6th poll): bytes per reading. */
import { loadProfiles } from '../src/drivers/profiles.js';
import { backfill } from '../src/sim/backfill.js';
import { simulatedMeterConfigs, startSimulator } from '../src/sim/simulator.js';
import { resolveProfile } from '../src/site/devices.js';
import { encodeValues, layoutFor } from '../src/store/codec.js';
import { encodeChunk, decodeChunk } from '../src/store/chunk-codec.js';
import type { ReadingRow } from '../src/store/registry.js';

const HOUR = 3_600_000;
const start = Date.UTC(2026, 0, 5, 10);
const sim = await startSimulator({ customers: 49, seed: 1, startMs: start });
const profiles = loadProfiles();
const cfg = new Map(simulatedMeterConfigs(49).map((m) => [m.id, m]));
const channelsOf = (a: number): string[] => {
  const m = cfg.get(a);
  return m ? resolveProfile(m.type, profiles).groups.flatMap((g) => g.points.map((p) => p.channel)) : [];
};
const byMeter = new Map<string, ReadingRow[]>();
backfill(sim.model, start + HOUR, 10_000, channelsOf, (r) => {
  const energy = Math.floor((r.ts - start) / 10_000) % 6 === 0;
  const values = Object.fromEntries(Object.entries(r.values).filter(([k]) => energy || !k.startsWith('Energy')));
  const layout = layoutFor(Object.keys(r.values));
  const rows = byMeter.get(r.meter) ?? [];
  rows.push({ ts: Math.floor(r.ts / 1000), layout_id: 1, vals: encodeValues(layout, values) });
  byMeter.set(r.meter, rows);
});
await sim.close();
let raw = 0,
  packed = 0,
  n = 0;
for (const rows of byMeter.values()) {
  const c = encodeChunk(start / 1000, rows);
  const back = decodeChunk(start / 1000, c);
  if (back.length !== rows.length || back.some((b, j) => !b.vals.equals((rows[j] as ReadingRow).vals))) throw new Error('round trip');
  raw += rows.reduce((s, r) => s + r.vals.length, 0);
  packed += c.length;
  n += rows.length;
}
console.log({ meters: byMeter.size, readings: n, rawValueBytesPerReading: raw / n, chunkBytesPerReading: packed / n });
