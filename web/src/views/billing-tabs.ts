import { h } from '../dom.js';

const TABS = [
  ['billing', 'Customers', '#/billing'],
  ['proposals', 'Disconnects', '#/billing/proposals'],
  ['tariffs', 'Tariffs', '#/billing/tariffs'],
] as const;

/** The Billing section's own links (customers and dashboard, the disconnect queue, tariffs). */
export function billingTabs(current: (typeof TABS)[number][0]): HTMLElement {
  return h(
    'nav',
    { class: 'chips', 'aria-label': 'Billing', 'data-testid': 'billing-tabs' },
    ...TABS.map(([id, label, target]) =>
      h('a', { href: target, class: 'chip', 'aria-current': id === current ? 'page' : null, 'data-testid': `billing-tab-${id}` }, label),
    ),
  );
}
