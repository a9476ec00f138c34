import type { SiteConfig } from '../config/site-config.js';
import type { DeviceProfile } from '../drivers/profile-schema.js';
import { resolveProfile } from '../site/devices.js';
import { backfill } from '../sim/backfill.js';
import type { SimulatorHandle } from '../sim/simulator.js';
import type { StoreDb } from '../store/database.js';
import { archiveCutMs, archiveReadings } from '../store/archive.js';
import { buildIntervals } from '../store/intervals.js';
import type { Recorder } from './recorder.js';

const STEP_MS = 60_000;
const FLUSH_EVERY = 20_000;

export const hasReadings = (db: StoreDb): boolean => db.prepare('SELECT 1 FROM readings LIMIT 1').get() !== undefined;

/**
 * Records what the simulated meters showed from the model's start until now, at 1-minute steps,
 * then builds the intervals: a demo's first start then already has days of history to chart.
 */
export function recordSimulatedHistory(sim: SimulatorHandle, config: SiteConfig, profiles: ReadonlyMap<string, DeviceProfile>, recorder: Recorder, untilMs: number): number {
  const channelsOf = (id: number): string[] => {
    const meter = config.meters.find((m) => (m.address ?? m.id) === id);
    if (!meter) return [];
    return resolveProfile(meter.type, profiles).groups.flatMap((g) => g.points.map((p) => p.channel));
  };
  let pending = 0;
  const count = backfill(sim.model, untilMs, STEP_MS, channelsOf, (r) => {
    recorder.writer.add(r);
    if (++pending >= FLUSH_EVERY) {
      recorder.writer.flush();
      pending = 0;
    }
  });
  recorder.writer.flush();
  archiveReadings(recorder.db, archiveCutMs(untilMs));
  // Interval building works through a backlog in slices; a fresh demo wants all of it at once.
  while (buildIntervals(recorder.db, untilMs, recorder.buildOptions) > 0) {
    // the next slice of the backlog
  }
  return count;
}
