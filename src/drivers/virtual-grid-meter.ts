import type { ChannelValue, Quality } from '../channels/value.js';

/**
 * The virtual grid meter (docs/sign-conventions.md#the-virtual-grid-meter), for a site without a physical meter at the
 * point of connection: per phase,
 *   grid = load - PV - ESS discharge - generator
 * with our signs (grid import positive, ESS discharge positive, PV and generator production
 * positive). With a charge-positive battery channel the ESS term would be `+`; with discharge
 * positive it is the minus above.
 *
 * Quality is the worst of the inputs used (ERROR over STALE over GOOD), and the timestamp the oldest:
 * a sum is only as fresh and as trustworthy as its weakest part. A missing input (null value, or a
 * component the site has not got: undefined) is treated differently: a component that is configured
 * but has no value makes the result ERROR with value null; a component that does not exist counts 0.
 */
export interface VirtualGridInputs {
  /** Consumption, W (positive = consumed). Required. */
  readonly load: ChannelValue | undefined;
  readonly pv?: ChannelValue;
  /** Battery, W (positive = discharge). */
  readonly ess?: ChannelValue;
  readonly gen?: ChannelValue;
}

const RANK: Record<Quality, number> = { GOOD: 0, STALE: 1, ERROR: 2 };

export function worstQuality(qs: readonly Quality[]): Quality {
  return qs.reduce<Quality>((w, q) => (RANK[q] > RANK[w] ? q : w), 'GOOD');
}

/** One phase (or the total): grid = load - pv - ess - gen, quality the worst of the inputs. */
export function virtualGridPower(i: VirtualGridInputs): ChannelValue {
  const parts: Array<[ChannelValue | undefined, number]> = [
    [i.load, 1],
    [i.pv, -1],
    [i.ess, -1],
    [i.gen, -1],
  ];
  const present = parts.filter((p): p is [ChannelValue, number] => p[0] !== undefined);
  if (i.load === undefined || present.length === 0)
    return { value: null, ts: Math.min(...present.map(([v]) => v.ts), Number.MAX_SAFE_INTEGER), quality: 'ERROR' };
  const ts = Math.min(...present.map(([v]) => v.ts));
  if (present.some(([v]) => v.value === null || !Number.isFinite(v.value))) return { value: null, ts, quality: 'ERROR' };
  const value = present.reduce((s, [v, sign]) => s + sign * (v.value ?? 0), 0);
  return { value, ts, quality: worstQuality(present.map(([v]) => v.quality)) };
}

export type PhaseKey = 'L1' | 'L2' | 'L3';

/** Per-phase inputs -> the grid component's ActivePower_L1..L3 and their sum ActivePower. */
export function virtualGridMeter(
  perPhase: Readonly<Record<PhaseKey, VirtualGridInputs>>,
): Record<'ActivePower' | 'ActivePower_L1' | 'ActivePower_L2' | 'ActivePower_L3', ChannelValue> {
  const L1 = virtualGridPower(perPhase.L1);
  const L2 = virtualGridPower(perPhase.L2);
  const L3 = virtualGridPower(perPhase.L3);
  const all = [L1, L2, L3];
  const ts = Math.min(...all.map((v) => v.ts));
  const total: ChannelValue = all.some((v) => v.value === null)
    ? { value: null, ts, quality: 'ERROR' }
    : { value: all.reduce((s, v) => s + (v.value ?? 0), 0), ts, quality: worstQuality(all.map((v) => v.quality)) };
  return { ActivePower: total, ActivePower_L1: L1, ActivePower_L2: L2, ActivePower_L3: L3 };
}
