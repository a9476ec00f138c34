import { existsSync, statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * A file of zeros beside the store (`<store>.reserve`), kept while the disk has room. A restart that finds
 * the disk full gives it back, so the store can open, the UI answer and the disk alarm be stored; the
 * recorder then holds what does not fit until space is freed.
 */
export const reservePath = (file: string): string => `${file}.reserve`;

/** 2 % of the filesystem, at most 8 MiB, in whole 4 KiB pages. */
export function reserveBytes(file: string): number {
  const s = statfsSync(path.dirname(path.resolve(file)));
  return Math.floor(Math.min(8 * 1024 * 1024, s.blocks * s.bsize * 0.02) / 4096) * 4096;
}

/** Writes the reserve when it is missing and the disk has four times its size free; true when it is there. */
export function keepReserve(file: string): boolean {
  const reserve = reservePath(file);
  if (existsSync(reserve)) return true;
  const size = reserveBytes(file);
  const s = statfsSync(path.dirname(path.resolve(file)));
  if (size === 0 || s.bavail * s.bsize < 4 * size) return false;
  try {
    writeFileSync(reserve, Buffer.alloc(size));
    return true;
  } catch {
    if (existsSync(reserve)) unlinkSync(reserve); // a reserve cut short would only take space
    return false;
  }
}

/** Gives the reserve's space back to the store; true when there was one. */
export function releaseReserve(file: string): boolean {
  const reserve = reservePath(file);
  if (!existsSync(reserve)) return false;
  unlinkSync(reserve);
  return true;
}
