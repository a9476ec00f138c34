import type { SenmlPack, SenmlRecord } from '../uplink/senml.js';
import type { SystemFigures } from './figures.js';
import type { HostFigures } from './host.js';

/**
 * The site's health as one SenML pack (docs/uplink.md, "Health"): base name `<site>/health/`, the same
 * view as GET /metrics plus the machine's figures. Pure.
 */

/** SenML names allow [A-Za-z0-9:./_-]; a bus id outside it is rewritten. */
const safe = (s: string): string => s.replace(/[^A-Za-z0-9:./_-]/g, '_');

export function healthPack(f: SystemFigures, host: HostFigures, nowMs: number): SenmlPack {
  const records: SenmlRecord[] = [];
  const num = (n: string, v: number | null, u?: string): void => {
    if (v === null || !Number.isFinite(v)) return;
    records.push(u === undefined ? { n, v } : { n, u, v });
  };
  num('uptime', Math.round(f.uptimeMs() / 1000), 's');
  num('process/rss', host.rssBytes, 'B');
  num('process/heap', host.heapUsedBytes, 'B');
  num('process/cpu', Math.round(host.cpuSeconds * 1000) / 1000, 's');
  num('disk/free', host.diskFreeBytes, 'B');
  num('disk/total', host.diskTotalBytes, 'B');
  num('cpu/temperature', host.cpuTempC, 'Cel');
  for (const b of f.buses()) {
    const n = `bus/${safe(b.id)}/`;
    records.push({ n: `${n}connected`, vb: b.connected });
    num(`${n}requests`, b.requests);
    num(`${n}errors`, b.errors);
    num(`${n}timeouts`, b.timeouts);
    num(`${n}overruns`, b.overruns);
    num(`${n}cycle`, b.lastCycleMs === null ? null : b.lastCycleMs / 1000, 's');
  }
  const edge = f.edge();
  if (edge) {
    num('edge/cycles', edge.cycles);
    num('edge/overruns', edge.overruns);
    num('edge/duration_p99', edge.durationMs.p99 / 1000, 's');
  }
  const up = f.uplink();
  if (up) {
    num('uplink/queued', up.queued);
    num('uplink/backlog', up.backlog);
    num('uplink/dropped', up.dropped);
    num('uplink/oldest_age', up.oldestQueuedMs === null ? 0 : Math.max(0, (nowMs - up.oldestQueuedMs) / 1000), 's');
    num('uplink/last_contact', up.lastContactMs === null ? null : up.lastContactMs / 1000, 's');
  }
  const open = f.openAlarms();
  for (const [severity, n] of Object.entries(open)) num(`alarms/${severity}`, n);
  const [first, ...rest] = records;
  return first ? [{ bn: `${f.siteId}/health/`, bt: nowMs / 1000, ...first }, ...rest] : [];
}
