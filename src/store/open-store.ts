import { existsSync, mkdirSync, statfsSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { openDatabase, schemaVersion, type StoreDb } from './database.js';
import { archiveEverything } from './archive.js';
import { releaseReserve } from './disk-reserve.js';

/** Where the store lives: its file, or memory while the file's disk has no room to create it. */
export type StorePlace = { readonly onDisk: true; readonly reserveReleased?: true } | { readonly onDisk: false; readonly why: string };

/** SQLite's and the OS's ways of saying "no space": SQLITE_FULL, and I/O errors when the filesystem is full. */
export function isOutOfSpace(err: unknown, file: string): boolean {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  if (code === 'SQLITE_FULL' || code === 'ENOSPC') return true;
  // Creating the -wal/-shm files on a full disk fails as SQLITE_IOERR_*: believe it only if the disk is full.
  return code.startsWith('SQLITE_IOERR') && freeBytes(file) < 1024 * 1024;
}

/** Free bytes of the filesystem that holds (or will hold) `file`: its nearest existing folder's. */
export function freeBytes(file: string): number {
  let dir = path.dirname(path.resolve(file));
  while (!existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/** A file that holds no schema yet (a first start cut short): nothing is lost by starting it again. */
function isFirstStartFile(file: string): boolean {
  return !existsSync(file) || statSync(file).size === 0;
}

/**
 * Opens the store file. On a disk with no room to open it, a store that holds data gets the space of its
 * reserve (`disk-reserve.ts`) and opens on disk. On a first start, the store opens in memory instead, so
 * the system still starts, serves the UI and raises the disk alarm; `moveToDisk` copies it to the file
 * once there is room. A file that holds data is never replaced by an empty memory store (its accounts
 * and history would seem lost): without a reserve that start fails as before.
 */
export function openStore(file: string): { db: StoreDb; place: StorePlace } {
  try {
    return { db: openDatabase(file), place: { onDisk: true } };
  } catch (err) {
    if (!isOutOfSpace(err, file)) throw err;
    if (!isFirstStartFile(file) && releaseReserve(file)) return { db: openDatabase(file), place: { onDisk: true, reserveReleased: true } };
    if (!isFirstStartFile(file)) throw err;
    for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) unlinkSync(f);
    return { db: openDatabase(':memory:'), place: { onDisk: false, why: `${(err as Error).message} (${file})` } };
  }
}

/** Bytes the memory store takes as a file. */
export function storeBytes(db: StoreDb): number {
  return (db.pragma('page_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number);
}

/** Room on the file's disk for the memory store twice over (the copy and its journal) plus 1 MB to go on. */
export function hasRoomFor(db: StoreDb, file: string): boolean {
  return freeBytes(file) >= 2 * storeBytes(db) + 1024 * 1024;
}

/** Copies the memory store (every table, the readings in its journal) into the file with SQLite's backup. */
export async function moveToDisk(db: StoreDb, file: string): Promise<void> {
  if (!db.memory) throw new Error('the store is already on disk');
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  // The recent readings live in the journal, which is in memory too: into the chunks, so the copy holds them.
  archiveEverything(db);
  await db.backup(file);
  // The copy is whole: opening it applies no migration, it only checks the version.
  const copy = openDatabase(file);
  const version = schemaVersion(copy);
  copy.close();
  if (version !== schemaVersion(db)) throw new Error(`the copy in ${file} has schema version ${version}, not ${schemaVersion(db)}`);
}
