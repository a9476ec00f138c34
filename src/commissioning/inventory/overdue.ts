import type { CommissioningConfig } from '../commissioning-config.js';
import type { InventoryMeter } from './tables.js';

const DAY_MS = 86_400_000;

export type OverdueDays = Pick<CommissioningConfig, 'assignedOverdueDays' | 'installedOverdueDays'>;

/**
 * The guide's red text: Assigned for more than assignedOverdueDays (conversion overdue), Installed
 * for more than installedOverdueDays (commissioning overdue). A stage without a date (imported from
 * a sheet that left it empty) cannot be judged and is not flagged.
 */
export function overdueReason(m: InventoryMeter, now: number, days: OverdueDays): string | null {
  const rule =
    m.status === 'Assigned'
      ? { limit: days.assignedOverdueDays, what: 'conversion' }
      : m.status === 'Installed'
        ? { limit: days.installedOverdueDays, what: 'commissioning' }
        : null;
  const since = m.stages[m.status]?.at;
  if (!rule || since === undefined) return null;
  const elapsed = now - since;
  if (elapsed <= rule.limit * DAY_MS) return null;
  return `${m.status} ${Math.floor(elapsed / DAY_MS)} days ago; ${rule.what} is due within ${rule.limit} days`;
}
