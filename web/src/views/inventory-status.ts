import { h } from '../dom.js';
import { reachedAt, statusOf, type InventoryMeter } from '../inventory-api.js';

/** When the record reached its current status. */
export function since(m: InventoryMeter): number | null {
  const s = statusOf(m.status);
  return s ? reachedAt(m, s) : null;
}

/** The status word, and when late the word "overdue" and why, in red text (not colour alone). */
export function statusCell(m: InventoryMeter): HTMLElement {
  const s = statusOf(m.status) ?? m.status;
  return h(
    'span',
    { class: 'inv-status', 'data-testid': 'inv-status' },
    h('span', { class: `status-word status-${s.toLowerCase()}` }, s),
    m.overdue ? h('span', { class: 'overdue', 'data-testid': 'overdue' }, ' ⚠ overdue', m.overdueReason ? h('small', {}, m.overdueReason) : null) : null,
  );
}
