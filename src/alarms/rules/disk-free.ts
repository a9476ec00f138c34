import { statfs } from 'node:fs/promises';
import { clear, fmt, raise, SITE_SUBJECT, type Finding } from '../types.js';

export interface DiskSpace {
  /** Bytes available to this (unprivileged) process. */
  readonly freeBytes: number;
  readonly totalBytes: number;
}

/** Free space of the filesystem holding `path`; injectable so tests can fake a full disk. */
export type DiskProbe = (path: string) => Promise<DiskSpace>;

export const statfsProbe: DiskProbe = async (path) => {
  const s = await statfs(path);
  return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
};

const GB = 1024 ** 3;

/** Under a third of the limit the recorder is close to failing writes: critical. */
export function diskFinding(space: DiskSpace, path: string, minShare: number): Finding | undefined {
  if (space.totalBytes <= 0) return undefined;
  const share = space.freeBytes / space.totalBytes;
  const numbers = `${fmt(share * 100)} % free (${fmt(space.freeBytes / GB, 2)} of ${fmt(space.totalBytes / GB, 2)} GB) on the filesystem of ${path}`;
  if (share >= minShare) return clear('disk_free', SITE_SUBJECT, numbers);
  return raise(
    'disk_free',
    SITE_SUBJECT,
    share < minShare / 3 ? 'critical' : 'major',
    'low',
    `data disk low: ${numbers}, limit ${fmt(minShare * 100)} %. Shorten raw retention, export and remove old data, or use a larger card.`,
  );
}
