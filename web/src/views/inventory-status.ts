import { h } from '../dom.js';
import { capitalise } from '../format.js';
import type { InventoryMeter } from '../inventory-api.js';

/** When the record reached its current status. */
export function since(m: InventoryMeter): number | null {
  const at: Record<string, number | null> = { assigned: m.assignedAt, converted: m.convertedAt, shipped: m.shippedAt, installed: m.installedAt, commissioned: m.commissionedAt };
  return at[m.status.toLowerCase()] ?? null;
}

/** The status word, and when late the word "overdue" and why, in red text (not colour alone). */
export function statusCell(m: InventoryMeter): HTMLElement {
  return h('span', { class: 'inv-status', 'data-testid': 'inv-status' },
    h('span', { class: `status-word status-${m.status.toLowerCase()}` }, capitalise(m.status.toLowerCase())),
    m.overdue ? h('span', { class: 'overdue', 'data-testid': 'overdue' }, ` ⚠ overdue${m.overdueReason ? `: ${m.overdueReason}` : ''}`) : null,
  );
}
