import { clear, fmt, raise, SITE_SUBJECT, type Finding } from '../types.js';

/** One local day of energy at the connection point and at the customers, net of export (kWh). */
export interface DayBalance {
  readonly day: string;
  readonly mainKWh: number;
  readonly customersKWh: number;
  /** Customer meters whose data for the day is incomplete (offline part of it): the sum misses some of their energy. */
  readonly customersIncomplete: readonly string[];
}

/** Below this the share is noise (a site that was off all day). */
export const MIN_MAIN_KWH = 1;

/**
 * Energy that entered at the main meter but no customer meter counted: feeder losses, theft, a
 * bypassed meter. Net values (import - export) so a PV customer feeding a neighbour is not counted
 * as a loss. undefined when there is too little energy to judge.
 */
export function balanceFinding(b: DayBalance, maxShare: number): Finding | undefined {
  if (b.mainKWh < MIN_MAIN_KWH) return undefined;
  const lost = b.mainKWh - b.customersKWh;
  const share = lost / b.mainKWh;
  const numbers = `main meter ${fmt(b.mainKWh, 2)} kWh, customer meters ${fmt(b.customersKWh, 2)} kWh, unaccounted ${fmt(lost, 2)} kWh = ${fmt(share * 100)} %`;
  if (share <= maxShare) return clear('energy_balance', SITE_SUBJECT, `${b.day}: ${numbers}`);
  const missing = b.customersIncomplete.length > 0 ? ` Meters with incomplete data that day: ${b.customersIncomplete.join(', ')}.` : '';
  return raise(
    'energy_balance',
    SITE_SUBJECT,
    'major',
    'loss',
    `${b.day}: ${numbers} (limit ${fmt(maxShare * 100)} %). Look for losses, theft or a bypassed meter.${missing}`,
  );
}
