import type { ChannelValue } from '../../src/channels/value.js';
import { snapshotOf, type Snapshot } from '../../src/edge/snapshot.js';

/** A fixed instant (a Tuesday morning in Kampala): no test depends on today's date. */
export const T0 = Date.parse('2026-04-07T10:00:00+03:00');

/** A snapshot whose values are GOOD and measured at `now`, unless given as a full ChannelValue. */
export function snap(now: number, values: Readonly<Record<string, number | ChannelValue>>): Snapshot {
  return snapshotOf(
    now,
    Object.entries(values).map(([k, v]) => [k, typeof v === 'number' ? { value: v, ts: now, quality: 'GOOD' } : v] as const),
  );
}
