import type { MeterConfig } from '../config/site-config.js';

export interface MeterDiff {
  readonly removed: readonly MeterConfig[];
  readonly added: readonly MeterConfig[];
}

/** What must change in the running site to go from one meter list to another (changed = removed + added). */
export function diffMeters(before: readonly MeterConfig[], after: readonly MeterConfig[]): MeterDiff {
  const byId = new Map(before.map((m) => [m.id, m]));
  const next = new Map(after.map((m) => [m.id, m]));
  const removed = before.filter((m) => {
    const n = next.get(m.id);
    return !n || JSON.stringify(n) !== JSON.stringify(m);
  });
  const added = after.filter((m) => {
    const b = byId.get(m.id);
    return !b || JSON.stringify(b) !== JSON.stringify(m);
  });
  return { removed, added };
}
