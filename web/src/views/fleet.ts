import { h, type Child } from '../dom.js';
import { capitalise, dateTime, num } from '../format.js';
import { fleetApi, type FleetMeter, type FleetSite } from '../fleet-api.js';
import { badge, badgeKind, setBadge } from '../quality.js';
import { href } from '../router.js';
import type { ValuesEvent } from '../types.js';
import { select } from './form.js';
import { loading } from './notice.js';
import type { Ctx, View } from './view.js';

type SortKey = 'id' | 'quality' | 'lastReadingTs' | 'completeness' | 'todayImportKWh' | 'openAlarms' | 'inventoryStatus';

const QUALITY_RANK: Record<string, number> = { ERROR: 0, STALE: 1, NONE: 2, GOOD: 3, OFF: 4 };
/** Below this share of expected readings a meter's logging has gaps worth a look. */
const LOW_COMPLETENESS = 0.9;

interface Col {
  readonly key: SortKey;
  readonly label: string;
  readonly num?: boolean;
  readonly value: (m: FleetMeter) => number | string | null;
}

const COLS: readonly Col[] = [
  { key: 'id', label: 'Meter', value: (m) => m.id },
  { key: 'quality', label: 'Status', value: (m) => QUALITY_RANK[badgeKind(m.quality, m.enabled)] ?? 2 },
  { key: 'lastReadingTs', label: 'Last reading', value: (m) => m.lastReadingTs },
  { key: 'completeness', label: 'Stored, 24 h', num: true, value: (m) => m.completeness },
  { key: 'todayImportKWh', label: 'Today (kWh)', num: true, value: (m) => m.todayImportKWh },
  { key: 'openAlarms', label: 'Alarms', num: true, value: (m) => m.openAlarms },
  { key: 'inventoryStatus', label: 'Inventory', value: (m) => m.inventoryStatus },
];

/** One decimal: 99.4% must not read as 100%, and a day-old meter's 0.3% not as 0%. */
const share = (c: number | null): string => (c === null ? '—' : c >= 1 ? '100%' : c > 0 && c < 0.001 ? '<0.1%' : `${(c * 100).toFixed(1)}%`);

/** A cell labelled with its column's name (shown beside the value when rows become cards on a phone). */
function td(key: SortKey, ...children: Child[]): HTMLTableCellElement {
  const col = COLS.find((c) => c.key === key);
  return h('td', { class: col?.num ? 'num' : null, 'data-label': col?.label ?? key }, h('div', {}, ...children));
}

/** Every meter of every site in one sortable table, grouped by site: is each meter logging, and completely? */
export function fleetView(ctx: Ctx): View {
  const tz = ctx.site.timezone;
  let sites: FleetSite[] = [];
  let sort: { key: SortKey; dir: 1 | -1 } = { key: 'id', dir: 1 };
  const badges = new Map<string, { el: HTMLElement; enabled: boolean }>();
  const headRow = h('tr');
  const table = h(
    'table',
    { class: 'list fleet', 'data-testid': 'fleet-table' },
    h('caption', { class: 'visually-hidden' }, 'Meters of every site; the column headings sort'),
    h('thead', {}, headRow),
  );
  const content = h('div', {}, loading());
  const summary = h('p', { class: 'hint', 'data-testid': 'fleet-summary' });
  // On a phone the headings are hidden (rows are cards), so the order is chosen here instead.
  const sortSelect = select(
    { id: 'fleet-sort', 'data-testid': 'fleet-sort' },
    COLS.map((c) => [c.key, c.label] as const),
    sort.key,
  );
  sortSelect.addEventListener('change', () => {
    const key = COLS.find((c) => c.key === sortSelect.value)?.key ?? 'id';
    sort = { key, dir: 1 };
    draw();
  });
  const el = h(
    'div',
    { class: 'page', 'data-testid': 'fleet' },
    h('div', { class: 'page-head' }, h('h1', {}, 'Fleet'), h('div', { class: 'filter phone-only' }, h('label', { for: 'fleet-sort' }, 'Sort by'), sortSelect)),
    summary,
    content,
  );

  function heading(c: Col): HTMLElement {
    const active = sort.key === c.key;
    const th = h(
      'th',
      { scope: 'col', class: c.num ? 'num' : null, 'aria-sort': active ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none' },
      h(
        'button',
        { type: 'button', class: 'sort', 'data-testid': `fleet-sort-${c.key}`, onclick: () => sortBy(c.key) },
        c.label,
        h('span', { 'aria-hidden': 'true' }, active ? (sort.dir === 1 ? ' ▲' : ' ▼') : ' ↕'),
      ),
    );
    return th;
  }

  function sortBy(key: SortKey): void {
    sort = { key, dir: sort.key === key ? (sort.dir === 1 ? -1 : 1) : 1 };
    draw();
  }

  function sorted(ms: readonly FleetMeter[]): FleetMeter[] {
    const col = COLS.find((c) => c.key === sort.key) ?? COLS[0];
    if (!col) return [...ms];
    return [...ms].sort((a, b) => {
      const x = col.value(a);
      const y = col.value(b);
      if (x === null || y === null) return x === y ? a.id - b.id : x === null ? 1 : -1; // no data sinks to the bottom either way
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return c * sort.dir || a.id - b.id;
    });
  }

  function row(m: FleetMeter, local: boolean): HTMLTableRowElement {
    const b = badge(badgeKind(m.quality, m.enabled));
    // The live stream speaks for this site only; another site's meter12 is another meter.
    if (local) badges.set(m.key, { el: b, enabled: m.enabled });
    const c = m.completeness;
    const low = c !== null && c < LOW_COMPLETENESS;
    return h(
      'tr',
      { 'data-testid': 'fleet-row', 'data-key': m.key },
      h(
        'th',
        { scope: 'row', class: 'meter-name' },
        h('a', { href: href({ page: 'meter', key: m.key }) }, m.name),
        h('small', {}, `#${m.id} · ${m.model} · ${m.bus}`),
      ),
      td('quality', b),
      td('lastReadingTs', dateTime(m.lastReadingTs, tz)),
      td(
        'completeness',
        h('span', { class: low ? 'warn-text' : null, 'data-testid': 'completeness' }, `${share(c)}${low ? ' (gaps)' : ''}`),
        h('meter', {
          class: 'completeness',
          min: 0,
          max: 1,
          low: LOW_COMPLETENESS,
          high: 0.99,
          optimum: 1,
          value: c ?? 0,
          'aria-label': `${share(c)} of expected readings stored`,
        }),
      ),
      td('todayImportKWh', num(m.todayImportKWh, 1)),
      td('openAlarms', m.openAlarms > 0 ? h('a', { href: href({ page: 'alarms' }), class: 'warn-text' }, `${m.openAlarms} open`) : '0'),
      td('inventoryStatus', m.inventoryStatus ? capitalise(m.inventoryStatus.toLowerCase()) : '—', m.serial ? h('small', {}, m.serial) : null),
    );
  }

  function draw(): void {
    badges.clear();
    sortSelect.value = sort.key;
    headRow.replaceChildren(...COLS.map(heading));
    for (const tb of table.querySelectorAll('tbody')) tb.remove();
    for (const s of sites) {
      table.append(
        h(
          'tbody',
          { 'data-testid': 'fleet-site', 'data-site': s.id },
          h(
            'tr',
            { class: 'group' },
            h(
              'th',
              { scope: 'rowgroup', colspan: COLS.length },
              `${s.name} `,
              h('small', {}, `${s.meters.length} ${s.meters.length === 1 ? 'meter' : 'meters'}`),
            ),
          ),
          ...sorted(s.meters).map((m) => row(m, s.id === ctx.site.id)),
        ),
      );
    }
    const all = sites.flatMap((s) => s.meters);
    const withData = all.filter((m) => m.completeness !== null);
    const avg = withData.length ? withData.reduce((a, m) => a + (m.completeness ?? 0), 0) / withData.length : null;
    summary.textContent = `${sites.length} ${sites.length === 1 ? 'site' : 'sites'}, ${all.length} meters; on average ${share(avg)} of expected readings stored over the last 24 h.`;
    content.replaceChildren(h('div', { class: 'table-wrap' }, table));
  }

  void ctx.scope.load(
    fleetApi.get(),
    content,
    (r) => {
      sites = r.sites;
      draw();
    },
    { loading: false },
  );

  return {
    el,
    onValues(e: ValuesEvent) {
      for (const u of e.meters) {
        const b = badges.get(u.key);
        if (b) setBadge(b.el, badgeKind(u.quality, b.enabled));
      }
    },
  };
}
