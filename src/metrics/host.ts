import { readdirSync, readFileSync, statfsSync } from 'node:fs';

/** The machine's own figures for the health message: process, disk, CPU temperature. */
export interface HostFigures {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly cpuSeconds: number;
  /** Free and total bytes of the file system that holds the data; null when it cannot be read. */
  readonly diskFreeBytes: number | null;
  readonly diskTotalBytes: number | null;
  /** The hottest thermal zone (°C); null where /sys/class/thermal does not exist (containers, most PCs). */
  readonly cpuTempC: number | null;
}

const THERMAL = '/sys/class/thermal';

function cpuTemperature(): number | null {
  let zones: string[];
  try {
    zones = readdirSync(THERMAL).filter((z) => z.startsWith('thermal_zone'));
  } catch {
    return null;
  }
  const temps = zones.flatMap((z) => {
    try {
      const milli = Number(readFileSync(`${THERMAL}/${z}/temp`, 'utf8').trim());
      return Number.isFinite(milli) ? [milli / 1000] : [];
    } catch {
      return [];
    }
  });
  return temps.length ? Math.max(...temps) : null;
}

export function hostFigures(dataDir: string): HostFigures {
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  let diskFreeBytes: number | null = null;
  let diskTotalBytes: number | null = null;
  try {
    const fs = statfsSync(dataDir);
    diskFreeBytes = fs.bavail * fs.bsize;
    diskTotalBytes = fs.blocks * fs.bsize;
  } catch {
    /* a data directory that cannot be read is reported as unknown, not as full */
  }
  return {
    rssBytes: mem.rss,
    heapUsedBytes: mem.heapUsed,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    diskFreeBytes,
    diskTotalBytes,
    cpuTempC: cpuTemperature(),
  };
}
