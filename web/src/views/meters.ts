import { api } from '../api.js';
import { h, setText } from '../dom.js';
import { siteNow } from '../clock.js';
import { ago, kW, num } from '../format.js';
import { badge, badgeKind, setBadge } from '../quality.js';
import { lastValueTs, summarise } from '../readings.js';
import { can } from '../roles.js';
import { href } from '../router.js';
import type { Meter, MeterUpdate, ValuesEvent } from '../types.js';
import { configHistory } from './config-history.js';
import { loading } from './notice.js';
import type { Ctx, View } from './view.js';

interface Row {
  tr: HTMLTableRowElement;
  meter: Meter;
  badge: HTMLElement;
  /** The age of the values shown, when they are old (the meter is not answering). */
  age: HTMLElement;
  cells: Record<'v' | 'a' | 'kw' | 'kwh', HTMLElement>;
}

const COLS = [
  ['v', 'Voltage', 'V'],
  ['a', 'Current', 'A'],
  ['kw', 'Power', 'kW'],
  ['kwh', 'Import', 'kWh'],
] as const;

/** All meters with live values. Below 640 px wide the CSS lays each row out as a card. */
export function metersView(ctx: Ctx): View {
  const installer = can(ctx.user, 'installer');
  const rows = new Map<string, Row>();
  const body = h('tbody');
  const filter = h('input', { id: 'meter-filter', type: 'search', placeholder: 'Name or address', 'data-testid': 'meter-filter', autocomplete: 'off' });
  const count = h('span', { class: 'hint', 'data-testid': 'meter-count' });
  const table = h(
    'table',
    { class: 'meters', 'data-testid': 'meters-table' },
    h('caption', { class: 'visually-hidden' }, 'Meters with their latest readings'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'Meter'),
        h('th', { scope: 'col' }, 'Status'),
        ...COLS.map(([, label, unit]) => h('th', { scope: 'col', class: 'num' }, `${label} (${unit})`)),
      ),
    ),
    body,
  );
  const content = h('div', {}, loading());
  const el = h(
    'div',
    { class: 'page', 'data-testid': 'meters' },
    h(
      'div',
      { class: 'page-head' },
      h('h1', {}, 'Meters'),
      installer
        ? h(
            'div',
            { class: 'actions' },
            h('a', { class: 'button', href: href({ page: 'add-meter', prefill: {} }), 'data-testid': 'add-meter-link' }, '+ Add meter'),
            h('a', { class: 'button secondary', href: href({ page: 'discover' }) }, 'Discover on a bus'),
          )
        : null,
      h('div', { class: 'filter' }, h('label', { for: 'meter-filter' }, 'Filter'), filter),
    ),
    count,
    content,
    installer ? configHistory(ctx.user, ctx.site.timezone) : null,
  );

  function applyFilter(): void {
    const q = filter.value.trim().toLowerCase();
    let shown = 0;
    for (const r of rows.values()) {
      const hit = !q || r.meter.name.toLowerCase().includes(q) || String(r.meter.id) === q || r.meter.key.toLowerCase().includes(q);
      r.tr.hidden = !hit;
      if (hit) shown++;
    }
    setText(count, q ? `${shown} of ${rows.size} meters` : `${rows.size} meters`);
  }
  filter.addEventListener('input', applyFilter);

  void ctx.scope.load(
    api.meters(),
    content,
    ({ meters }) => {
      const sorted = [...meters].sort((a, b) => (a.role === b.role ? a.id - b.id : a.role === 'main' ? -1 : 1));
      for (const m of sorted) {
        const row = makeRow(m);
        rows.set(m.key, row);
        body.append(row.tr);
      }
      content.replaceChildren(h('div', { class: 'table-wrap' }, table));
      applyFilter();
    },
    { loading: false },
  );

  return {
    el,
    onValues(e: ValuesEvent) {
      for (const u of e.meters) {
        const r = rows.get(u.key);
        if (r) fill(r, u);
      }
    },
  };
}

function makeRow(m: Meter): Row {
  const link = h('a', { href: href({ page: 'meter', key: m.key }), 'data-testid': 'meter-link' }, m.name);
  const b = badge(badgeKind(m.quality, m.enabled));
  const age = h('small', { class: 'age', 'data-testid': 'reading-age', hidden: true });
  const cells = { v: numCell('Voltage V'), a: numCell('Current A'), kw: numCell('Power kW'), kwh: numCell('Import kWh') };
  const tr = h(
    'tr',
    { 'data-testid': 'meter-row', 'data-key': m.key },
    h('th', { scope: 'row', class: 'meter-name' }, link, h('small', {}, `#${m.id} · ${m.model}${m.role === 'main' ? ' · main' : ''}`)),
    h('td', { class: 'status', 'data-label': 'Status' }, b, age),
    cells.v,
    cells.a,
    cells.kw,
    cells.kwh,
  );
  // The whole row is a target (easier with a thumb); the link stays the accessible way in.
  tr.addEventListener('click', (ev) => {
    if (!(ev.target instanceof HTMLAnchorElement)) location.hash = href({ page: 'meter', key: m.key });
  });
  const row: Row = { tr, meter: m, badge: b, age, cells };
  fill(row, m);
  return row;
}

function numCell(label: string): HTMLTableCellElement {
  return h('td', { class: 'num', 'data-label': label });
}

function fill(r: Row, u: MeterUpdate): void {
  const s = summarise(u.values);
  setBadge(r.badge, badgeKind(u.quality, r.meter.enabled));
  setText(r.cells.v, num(s.voltage, 1));
  setText(r.cells.a, num(s.current, 2));
  setText(r.cells.kw, kW(s.powerW));
  setText(r.cells.kwh, num(s.importKWh, 1));
  // Values kept from before the meter stopped answering look old: greyed, with their age.
  const ts = u.quality === 'GOOD' ? null : lastValueTs(u.values);
  r.tr.classList.toggle('is-old', ts !== null);
  r.age.hidden = ts === null;
  if (ts !== null) setText(r.age, ago(ts, siteNow()));
}
