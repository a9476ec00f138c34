import type { SiteConfig } from '../config/site-config.js';
import type { DeviceProfile } from '../drivers/profile-schema.js';
import { resolveProfile } from '../site/devices.js';
import { backfill } from '../sim/backfill.js';
import type { SimulatorHandle } from '../sim/simulator.js';
import { statfsSync } from 'node:fs';
import path from 'node:path';
import type { StoreDb } from '../store/database.js';
import { archiveCutMs, archiveReadings } from '../store/archive.js';
import { buildIntervals } from '../store/intervals.js';
import { hasAnyReading } from '../store/reading-rows.js';
import type { Recorder } from './recorder.js';

const STEP_MS = 60_000;
const FLUSH_EVERY = 20_000;

export const hasReadings = (db: StoreDb): boolean => hasAnyReading(db);

/**
 * What recording a backfill costs on disk, per reading, generously: its journal record (~60), its
 * hourly chunk in the WAL and the file (~20 each), the intervals (bench/disk-writes.ts).
 */
const BACKFILL_BYTES_PER_READING = 200;

/**
 * Whether `readings` of simulated history fit on the disk holding the database: they may use at
 * most half of the free space, so a nearly full card starts without history (the disk alarm says
 * why) instead of failing its start half-way through writing it.
 */
export function backfillFits(db: StoreDb, readings: number): { fits: boolean; needBytes: number; freeBytes: number } {
  const needBytes = readings * BACKFILL_BYTES_PER_READING;
  if (db.memory) return { fits: true, needBytes, freeBytes: Infinity };
  const s = statfsSync(path.dirname(path.resolve(db.name)));
  const freeBytes = s.bavail * s.bsize;
  return { fits: needBytes <= freeBytes / 2, needBytes, freeBytes };
}

/**
 * Records what the simulated meters showed from the model's start until now, at 1-minute steps,
 * then builds the intervals: a demo's first start then already has days of history to chart. Skipped
 * (returning 0, telling onSkip why) when the disk is short of space for it, or fills up meanwhile.
 */
export function recordSimulatedHistory(
  sim: SimulatorHandle,
  config: SiteConfig,
  profiles: ReadonlyMap<string, DeviceProfile>,
  recorder: Recorder,
  untilMs: number,
  onSkip: (why: string) => void = (why) => process.emitWarning(`mgos: simulated history skipped: ${why}`),
): number {
  const channelsOf = (id: number): string[] => {
    const meter = config.meters.find((m) => (m.address ?? m.id) === id);
    if (!meter) return [];
    return resolveProfile(meter.type, profiles).groups.flatMap((g) => g.points.map((p) => p.channel));
  };
  const expected = sim.model.meters().length * Math.max(0, Math.ceil((untilMs - sim.model.timeMs) / STEP_MS));
  const space = backfillFits(recorder.db, expected);
  if (!space.fits) {
    onSkip(`${Math.round(space.needBytes / 1e6)} MB of history would not fit in ${Math.round(space.freeBytes / 1e6)} MB free (at most half of it)`);
    return 0;
  }
  let pending = 0;
  let count: number;
  try {
    count = backfill(sim.model, untilMs, STEP_MS, channelsOf, (r) => {
      recorder.writer.add(r);
      if (++pending >= FLUSH_EVERY) {
        recorder.writer.flush();
        pending = 0;
      }
    });
    recorder.writer.flush();
    archiveReadings(recorder.db, archiveCutMs(untilMs));
  } catch (e) {
    // A disk that filled up meanwhile: what was flushed stays (each flush is whole), the rest is
    // dropped, and the system starts without it rather than not at all.
    recorder.writer.discard();
    onSkip(`recording history failed part-way (${String(e)}); what was written is kept`);
    return 0;
  }
  // Interval building works through a backlog in slices; a fresh demo wants all of it at once.
  while (buildIntervals(recorder.db, untilMs, recorder.buildOptions) > 0) {
    // the next slice of the backlog
  }
  return count;
}
