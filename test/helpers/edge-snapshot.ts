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

/** The grid meter and a battery `ess0` per phase (W), with their totals: the channels a per-phase site reads. */
export function phaseValues(g: readonly [number, number, number], b: readonly [number, number, number]): Record<string, number> {
  return {
    'grid/ActivePower': g[0] + g[1] + g[2],
    'grid/ActivePower_L1': g[0],
    'grid/ActivePower_L2': g[1],
    'grid/ActivePower_L3': g[2],
    'ess0/ActivePower': b[0] + b[1] + b[2],
    'ess0/ActivePower_L1': b[0],
    'ess0/ActivePower_L2': b[1],
    'ess0/ActivePower_L3': b[2],
  };
}
