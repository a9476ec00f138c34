import { h, setText } from '../dom.js';
import { dateOnly } from '../format.js';
import { inventoryApi, statusOf, STATUSES, type InventoryMeter } from '../inventory-api.js';
import { can } from '../roles.js';
import { href, replaceRoute } from '../router.js';
import { importForm, newRecordForm } from './inventory-forms.js';
import { since, statusCell } from './inventory-status.js';
import { loading } from './notice.js';
import { fillRows, listTable, type TableOptions } from './table.js';
import type { Ctx, View } from './view.js';

const ALL = 'all';
/** Chips and the address bar use the lowercase status. */
const key = (m: InventoryMeter): string => (statusOf(m.status) ?? m.status).toLowerCase();

/** The meter inventory: status chips with counts, search, overdue filter, CSV out and in. */
export function inventoryView(ctx: Ctx, initialStatus?: string): View {
  const tz = ctx.site.timezone;
  let status = initialStatus?.toLowerCase() ?? ALL;
  let records: InventoryMeter[] = [];
  const search = h('input', { id: 'inv-q', type: 'search', placeholder: 'Serial, site, building…', autocomplete: 'off', 'data-testid': 'inv-search' });
  const overdueOnly = h('input', { id: 'inv-overdue', type: 'checkbox', 'data-testid': 'inv-overdue-only' });
  const chips = h('div', { class: 'chips', role: 'group', 'aria-label': 'Filter by status', 'data-testid': 'inv-chips' });
  const count = h('p', { class: 'hint', 'data-testid': 'inv-count', 'aria-live': 'polite' });
  const content = h('div', {}, loading());
  const opts: TableOptions<InventoryMeter> = {
    caption: 'Meter inventory',
    testId: 'inventory-table',
    rowAttrs: (m) => ({ 'data-testid': 'inv-row', 'data-serial': m.serial, 'data-status': m.status.toLowerCase(), class: m.overdue ? 'row-overdue' : null }),
    rowHref: (m) => href({ page: 'inventory-record', serial: m.serial }),
    columns: [
      {
        label: 'Serial',
        class: 'nowrap',
        cell: (m) => [h('a', { href: href({ page: 'inventory-record', serial: m.serial }), 'data-testid': 'inv-link' }, m.serial), h('small', {}, m.model)],
      },
      { label: 'Status', cell: statusCell },
      { label: 'Since', class: 'nowrap', cell: (m) => dateOnly(since(m), tz) },
      { label: 'Site', cell: (m) => [m.site, m.building ? h('small', {}, m.building) : null] },
      { label: 'Address', cell: (m) => (m.address === null ? '—' : `${m.address}${m.bus ? ` on ${m.bus}` : ''}`) },
    ],
  };
  const table = listTable(opts, []);
  const installer = can(ctx.user, 'installer');
  const el = h(
    'div',
    { class: 'page', 'data-testid': 'inventory' },
    h(
      'div',
      { class: 'page-head' },
      h('h1', {}, 'Inventory'),
      h('div', { class: 'actions' }, h('a', { class: 'button secondary', href: inventoryApi.csvUrl, download: '', 'data-testid': 'inv-export' }, 'Export CSV')),
    ),
    chips,
    h(
      'div',
      { class: 'filters' },
      h('div', { class: 'filter' }, h('label', { for: 'inv-q' }, 'Search'), search),
      h('label', { class: 'check' }, overdueOnly, ' Overdue only'),
    ),
    count,
    content,
    installer
      ? h(
          'details',
          { class: 'card', 'data-testid': 'inv-new' },
          h('summary', {}, h('h2', { class: 'inline' }, 'Add a record')),
          newRecordForm(ctx.site.name, reload),
        )
      : null,
    installer
      ? h('details', { class: 'card', 'data-testid': 'inv-import-box' }, h('summary', {}, h('h2', { class: 'inline' }, 'Import CSV')), importForm(reload))
      : null,
  );

  const matchesText = (m: InventoryMeter, q: string): boolean =>
    !q || [m.serial, m.model, m.site, m.building, m.notes, m.bus ?? '', m.address === null ? '' : String(m.address)].some((s) => s.toLowerCase().includes(q));

  function apply(): void {
    const q = search.value.trim().toLowerCase();
    const base = records.filter((m) => matchesText(m, q) && (!overdueOnly.checked || m.overdue));
    const counts = new Map<string, number>();
    for (const m of base) counts.set(key(m), (counts.get(key(m)) ?? 0) + 1);
    chips.replaceChildren(chip(ALL, 'All', base.length), ...STATUSES.map((s) => chip(s.toLowerCase(), s, counts.get(s.toLowerCase()) ?? 0)));
    const shown = base.filter((m) => status === ALL || key(m) === status);
    fillRows(opts, table.body, shown);
    setText(
      count,
      `${shown.length} of ${records.length} meters${records.some((m) => m.overdue) ? ` · ${records.filter((m) => m.overdue).length} overdue` : ''}`,
    );
    content.replaceChildren(
      shown.length ? table.el : h('p', { class: 'hint', 'data-testid': 'inv-empty' }, records.length ? 'No meter matches.' : 'The inventory is empty.'),
    );
  }

  function chip(s: string, label: string, n: number): HTMLElement {
    return h(
      'button',
      {
        type: 'button',
        class: 'chip',
        'aria-pressed': String(s === status),
        'data-testid': `inv-chip-${s}`,
        onclick: () => {
          status = s;
          replaceRoute({ page: 'inventory', status: s === ALL ? undefined : s });
          apply();
        },
      },
      `${label} `,
      h('span', { class: 'chip-count' }, String(n)),
    );
  }

  function reload(): void {
    void ctx.scope.load(
      inventoryApi.list(),
      content,
      (r) => {
        records = r.meters;
        apply();
      },
      { key: 'list', loading: false },
    );
  }
  search.addEventListener('input', apply);
  overdueOnly.addEventListener('change', apply);
  reload();
  return { el };
}
