import { mulberry32 } from './prng.js';
import type { LoadKind } from './load-profile.js';

/**
 * Who is on the simulated mini-grid. The layout (ids, names, kinds, phases) depends only on the
 * number of customers, so a site config written for a demo stays valid whatever seed is used;
 * the seed only sizes the loads.
 */
export type Phase = 'L1' | 'L2' | 'L3';
export const PHASES: readonly Phase[] = ['L1', 'L2', 'L3'];

/** Address plan of the field teams: single-phase meters 2-99, three-phase meters 100 and up. */
export const FIRST_CUSTOMER_ID = 2;
export const LAST_SINGLE_PHASE_ID = 99;
export const MAIN_METER_ID = 100;

export interface CustomerPlan {
  /** The Modbus address the meter was commissioned with; the model's key for this customer. */
  readonly id: number;
  readonly name: string;
  readonly kind: LoadKind;
  readonly phase: Phase;
  readonly hasPv: boolean;
}

export interface CustomerSpec extends CustomerPlan {
  readonly peakW: number;
  readonly pvPeakW: number;
  /** Where the customer hangs on the feeder: 0 at the main meter, 1 at the far end (voltage drop). */
  readonly feederPosition: number;
}

export function planCustomers(count: number): CustomerPlan[] {
  const max = LAST_SINGLE_PHASE_ID - FIRST_CUSTOMER_ID + 1;
  if (!Number.isInteger(count) || count < 0 || count > max) {
    throw new RangeError(`customers must be a whole number from 0 to ${max} (addresses ${FIRST_CUSTOMER_ID}-${LAST_SINGLE_PHASE_ID}); got ${count}`);
  }
  return Array.from({ length: count }, (_, i) => {
    const id = FIRST_CUSTOMER_ID + i;
    const kind: LoadKind = i % 4 === 3 ? 'shop' : 'household';
    return {
      id,
      name: `${kind === 'shop' ? 'shop' : 'house'}_${String(id).padStart(2, '0')}`,
      kind,
      phase: PHASES[i % 3] ?? 'L1',
      hasPv: kind === 'household' && i % 5 === 1,
    };
  });
}

/** Sizes every planned customer from the seed. */
export function sizeCustomers(plans: readonly CustomerPlan[], seed: number): CustomerSpec[] {
  const rng = mulberry32(seed);
  return plans.map((p) => ({
    ...p,
    peakW: p.kind === 'shop' ? 400 + 800 * rng() : 150 + 450 * rng(),
    pvPeakW: p.hasPv ? 150 + 250 * rng() : 0,
    feederPosition: 0.3 + 0.7 * rng(),
  }));
}
