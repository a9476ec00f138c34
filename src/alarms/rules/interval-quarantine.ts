import type { QuarantinedInterval } from '../../store/quarantine.js';
import { clear, raise, type Finding } from '../types.js';

/**
 * A meter with quarantined intervals: energy nobody is billed for until a person decides. Level
 * triggered: open while any interval of the meter is quarantined, cleared when the last is resolved.
 */
export function quarantineFinding(meter: string, name: string | undefined, open: readonly QuarantinedInterval[]): Finding {
  const label = name ? `${meter} (${name})` : meter;
  const first = open[0];
  if (!first) return clear('interval_quarantine', meter, `${label}: no quarantined interval is left`);
  const n = open.length;
  return raise(
    'interval_quarantine',
    meter,
    'major',
    'quarantined',
    `${label}: ${n} interval${n === 1 ? ' is' : 's are'} quarantined and not billed; the first, at ${new Date(first.startMs).toISOString()}: ${first.reason}. ` +
      `If the meter was replaced, record the replacement in the inventory with the old meter's final and the new meter's first reading; ` +
      `otherwise check the meter and resolve each interval (accept it as read, correct it, or set it to zero) under /api/meters/${meter}/quarantine.`,
  );
}
