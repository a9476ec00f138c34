import path from 'node:path';
import type { Logger } from 'pino';
import type { AlarmStore, RaiseInput } from './alarms/index.js';
import type { StoreDb } from './store/database.js';
import { keepReserve } from './store/disk-reserve.js';
import { hasRoomFor, type StorePlace } from './store/open-store.js';
import type { Scheduler } from './util/scheduler.js';

/** How often a store in memory looks for room on its disk. */
const ROOM_CHECK_MS = 2000;
/** How often a missing disk reserve is written back when there is room. */
const RESERVE_CHECK_MS = 10 * 60_000;
/** Beside the periodic disk_free alarm (which says how full), this one says the store is not on disk. */
const STORE_IN_MEMORY = { rule: 'store_in_memory', subject: 'site' } as const;

export interface StorePlaceOptions {
  readonly place: StorePlace;
  readonly db: StoreDb;
  readonly file: string;
  readonly scheduler: Scheduler;
  readonly alarms: Pick<AlarmStore, 'raise' | 'clear'>;
  /** Readings the writer holds in memory at most, for the alarm's message. */
  readonly maxReadings: number;
  readonly log: Logger;
  readonly cleanups: (() => unknown)[];
}

/**
 * Where the store runs, told to people and kept up: a store in memory (a first start on a full disk)
 * raises its alarm and resolves the returned promise once the disk has room; a store on disk clears
 * that alarm and keeps its reserve written (the reserve lets a restart on a full disk open the file).
 */
export function superviseStorePlace(o: StorePlaceOptions): Promise<void> {
  if (!o.place.onDisk) {
    o.alarms.raise(storeInMemoryAlarm(o.file, o.maxReadings));
    return watchForRoom(o.scheduler, o.db, o.file);
  }
  o.alarms.clear(STORE_IN_MEMORY.rule, STORE_IN_MEMORY.subject, { message: `the store is on disk (${o.file})` });
  if (o.place.reserveReleased) o.log.warn({ db: o.file }, 'the data disk was full: its reserve was given back so the store could open');
  keepReserve(o.file);
  o.cleanups.push(o.scheduler.every('store-reserve', RESERVE_CHECK_MS, () => keepReserve(o.file)));
  return new Promise<void>(() => undefined);
}

/** The alarm of a store held in memory: which disk, what it means, and the fix, in a sentence each. */
function storeInMemoryAlarm(file: string, maxReadings: number): RaiseInput {
  return {
    ...STORE_IN_MEMORY,
    severity: 'critical',
    condition: 'in-memory',
    message:
      `The data disk of ${path.dirname(path.resolve(file))} is full, so mgos could not create its database ${file}: it runs from memory ` +
      `and keeps the last ${maxReadings} readings there. Free space on that disk (remove old files, or use a larger card); ` +
      'within seconds mgos writes everything to the file and carries on from it.',
  };
}

/** Resolves once the disk holding `file` has room for the memory store (checked on the scheduler). */
function watchForRoom(scheduler: Scheduler, db: StoreDb, file: string): Promise<void> {
  return new Promise((resolve) => {
    const stop = scheduler.every('store-room-check', ROOM_CHECK_MS, () => {
      if (!hasRoomFor(db, file)) return;
      void stop();
      resolve();
    });
  });
}
