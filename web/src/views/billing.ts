import { billingApi, money, standing, type Customer, type CustomerView, type SiteDashboard } from '../billing-api.js';
import { h } from '../dom.js';
import { h as jsx } from 'preact';
import { can } from '../roles.js';
import { island } from '../ui/load.js';
import { CustomerCreate } from './customer-create.js';
import { percent } from '../format.js';
import { href } from '../router.js';
import { billingTabs } from './billing-tabs.js';
import { select } from './form.js';
import { loading } from './notice.js';
import { fillRows, listTable, type TableOptions } from './table.js';
import type { Ctx, View } from './view.js';

interface Row {
  c: Customer;
  v: CustomerView | null;
  disconnected: boolean;
}

/** Billing home: this month's figures and the customers, searchable and filterable by mode. */
export function billingView(ctx: Ctx): View {
  const dash = h('section', { class: 'tiles', 'aria-label': 'This month', 'data-testid': 'billing-dashboard' }, loading());
  const search = h('input', { id: 'customer-search', type: 'search', placeholder: 'Name, id or phone', 'data-testid': 'customer-search', autocomplete: 'off' });
  const mode = select({ id: 'customer-mode', 'data-testid': 'customer-mode' }, [
    ['', 'All'],
    ['prepaid', 'Prepaid'],
    ['postpaid', 'Postpaid'],
  ]);
  const list = h('div', {}, loading());
  const createHost = h('div');
  const el = h(
    'div',
    { class: 'page', 'data-testid': 'billing' },
    h('div', { class: 'page-head' }, h('h1', {}, 'Billing'), billingTabs('billing')),
    dash,
    h('h2', {}, 'Customers'),
    can(ctx.user, 'operator') ? createHost : null,
    h(
      'div',
      { class: 'filters' },
      h('div', { class: 'field' }, h('label', { for: 'customer-search' }, 'Search'), search),
      h('div', { class: 'field' }, h('label', { for: 'customer-mode' }, 'Mode'), mode),
    ),
    list,
  );
  let rows: Row[] = [];
  const opts: TableOptions<Row> = {
    caption: 'Customers',
    testId: 'customers',
    columns: [
      { label: 'Customer', cell: (r) => [h('a', { href: href({ page: 'customer', id: r.c.id }) }, r.c.name), ' ', h('small', {}, r.c.id)] },
      { label: 'Mode', cell: (r) => (r.c.mode === 'prepaid' ? 'Prepaid' : 'Postpaid') },
      { label: 'Balance', num: true, cell: (r) => (r.v ? h('span', { 'data-testid': 'customer-balance' }, money(standing(r.v), r.v.currency)) : '—') },
      {
        label: 'Supply',
        cell: (r) =>
          r.disconnected
            ? h('span', { class: 'badge badge-error', 'data-testid': 'disconnected' }, 'Disconnected')
            : h('span', { class: 'badge badge-good' }, 'On'),
      },
    ],
    rowAttrs: (r) => ({ 'data-testid': 'customer-row', 'data-id': r.c.id }),
    rowHref: (r) => href({ page: 'customer', id: r.c.id }),
  };
  const table = listTable(opts, []);

  function show(): void {
    const s = search.value.trim().toLowerCase();
    const shown = rows.filter((r) => (!mode.value || r.c.mode === mode.value) && (!s || `${r.c.name} ${r.c.id} ${r.c.phone}`.toLowerCase().includes(s)));
    fillRows(opts, table.body, shown);
    list.replaceChildren(
      rows.length === 0 ? h('p', { class: 'hint' }, 'No customers yet.') : shown.length === 0 ? h('p', { class: 'hint' }, 'No customer matches.') : table.el,
    );
  }
  search.addEventListener('input', show);
  mode.addEventListener('change', show);

  async function customerRows(): Promise<Row[]> {
    const [cs, ps] = await Promise.all([billingApi.customers(), billingApi.proposals('executed')]);
    // The latest executed proposal per customer tells whether their supply is cut.
    const last = new Map<string, string>();
    for (const p of [...ps.proposals].sort((a, b) => (a.decidedAt ?? a.createdAt) - (b.decidedAt ?? b.createdAt))) last.set(p.asset.customer, p.capability);
    const views = await Promise.all(cs.customers.map((c) => billingApi.customer(c.id).catch(() => null)));
    return cs.customers.map((c, i) => ({ c, v: views[i] ?? null, disconnected: last.get(c.id) === 'disconnect' }));
  }
  // The form is its own component: reloading the list below leaves its message in place.
  const renderCreate = can(ctx.user, 'operator') ? island(createHost, jsx(CustomerCreate, { holders: new Map(), created: () => loadRows() }), ctx.scope) : null;
  function loadRows(): void {
    void ctx.scope.load(
      customerRows,
      list,
      (r) => {
        rows = r;
        show();
        // Who holds each meter now, so the form says whose meter would move.
        const holders = new Map(r.flatMap((x) => (x.v?.meters ?? []).filter((m) => m.toMs === null).map((m) => [m.meterKey, x.c.name] as const)));
        renderCreate?.(jsx(CustomerCreate, { holders, created: () => loadRows() }));
      },
      { key: 'rows', loading: false },
    );
  }
  loadRows();

  void ctx.scope.load(billingApi.dashboard(), dash, (d) => d.sites.flatMap(tiles), {
    loading: false,
    error: () => dash.replaceChildren(h('p', { class: 'hint' }, 'The billing dashboard is not available on this controller yet.')),
  });

  return { el };
}

function tiles(s: SiteDashboard): HTMLElement[] {
  const tile = (label: string, value: string, testId: string, hint: string): HTMLElement =>
    h(
      'div',
      { class: 'tile' },
      h('div', { class: 'tile-label' }, label),
      h('div', { class: 'tile-value', 'data-testid': testId }, value),
      h('small', { class: 'hint' }, hint),
    );
  return [
    tile(
      `Revenue ${s.month}`,
      money(s.revenueMinor, s.currency),
      'dash-revenue',
      `energy ${money(s.revenueEnergyMinor, s.currency)}, fixed ${money(s.revenueFixedMinor, s.currency)}${s.revenueFeesMinor ? `, fees ${money(s.revenueFeesMinor, s.currency)}` : ''}`,
    ),
    tile('Arrears', money(s.arrearsMinor, s.currency), 'dash-arrears', `${s.customersInArrears} customer${s.customersInArrears === 1 ? '' : 's'}`),
    // The caption is the fraction the percentage is: collected of what was due (not payments of billed).
    tile(
      'Collection rate',
      percent(s.collectionRate),
      'dash-collection',
      `${money(s.collectedMinor, s.currency)} collected of ${money(s.dueMinor, s.currency)} due`,
    ),
  ];
}
