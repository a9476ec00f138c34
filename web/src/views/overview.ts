import { api } from '../api.js';
import { append, h, setText } from '../dom.js';
import { siteNow } from '../clock.js';
import { ago, kW, num } from '../format.js';
import { href } from '../router.js';
import type { MeterCounts, Overview } from '../types.js';
import { h as jsx } from 'preact';
import { island } from '../ui/load.js';
import { BusPanel } from './buses.js';
import { UplinkPanel } from './uplink.js';
import { OperatorPanel } from './operator-panel.js';
import { loading } from './notice.js';
import { PhaseBars } from './phase-bars.js';
import type { Ctx, View } from './view.js';

/** Bus counters are not in the stream; refresh them with the overview, but not on every poll. */
const BUS_REFRESH_MS = 15_000;

export function overviewView(ctx: Ctx): View {
  // Parts that are Preact components (the rest of the page is still built by hand). The operator
  // panel carries the open-alarm counts, which the nav badge shares (alarm-counts.ts).
  const tz = ctx.site.timezone;
  const operatorHost = h('div', { class: 'wide' });
  let operatorRefresh = 0;
  const renderOperator = island(operatorHost, jsx(OperatorPanel, { refresh: operatorRefresh, tz }), ctx.scope);
  const refreshAlarms = (): void => renderOperator(jsx(OperatorPanel, { refresh: ++operatorRefresh, tz }));
  const direction = h('span', { class: 'direction', 'data-testid': 'grid-direction' }, '—');
  const big = h('span', { class: 'big-number', 'data-testid': 'grid-power' }, '—');
  const signed = h('span', { 'data-testid': 'grid-power-signed' }, '');
  const gridMeter = h('p', { class: 'hint' });
  const phases = new PhaseBars();
  const freq = h('span', { 'data-testid': 'frequency' }, '—');
  const hero = h('section', { class: 'card hero', 'aria-labelledby': 'grid-title' });
  const gridAge = h('p', { class: 'old', 'data-testid': 'grid-age', hidden: true });
  append(
    hero,
    h('h2', { id: 'grid-title' }, 'Grid connection'),
    h('p', { class: 'hero-line' }, direction, big, h('span', { class: 'unit' }, 'kW')),
    gridAge,
    h('p', { class: 'hint' }, 'Signed value ', signed),
    h('p', { class: 'hint' }, 'Sign convention: +\u00a0import from the grid, −\u00a0export to the grid.'),
    gridMeter,
  );
  const counts = h('div', { class: 'counts', 'data-testid': 'meter-counts' });
  const total = h('span', { class: 'count-total', 'data-testid': 'count-total' });
  const buses = h('div', { 'data-testid': 'buses' });
  let busRefresh = 0;
  const busPanel = island(buses, jsx(BusPanel, { refresh: busRefresh }), ctx.scope);
  const uplinkHost = h('div', { 'data-testid': 'uplink-panel' });
  const uplinkPanel = island(uplinkHost, jsx(UplinkPanel, { refresh: busRefresh }), ctx.scope);
  const status = h('div', { class: 'wide' }, loading());

  const el = h(
    'div',
    { class: 'page overview', 'data-testid': 'overview' },
    h('h1', { class: 'visually-hidden' }, 'Site overview'),
    status,
    hero,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'phase-title' },
      h('h2', { id: 'phase-title' }, 'Per phase'),
      h('p', { class: 'legend' }, h('span', { class: 'key export' }, '◀ export'), h('span', { class: 'key import' }, 'import ▶')),
      phases.el,
      h('p', { class: 'hint freq-line' }, 'Frequency ', h('strong', {}, freq), ' Hz'),
    ),
    operatorHost,
    h(
      'section',
      { class: 'card wide', 'aria-labelledby': 'counts-title' },
      h('h2', { id: 'counts-title' }, 'Meters ', total, h('a', { href: href({ page: 'meters' }), class: 'small-link' }, 'see all')),
      counts,
    ),
    h('section', { class: 'wide', 'aria-labelledby': 'bus-title' }, h('h2', { id: 'bus-title' }, 'Communication buses'), buses),
    h('section', { class: 'wide', 'aria-labelledby': 'uplink-title' }, h('h2', { id: 'uplink-title' }, 'Uplink'), uplinkHost),
  );

  // The bus cards and the operator panel fetched as they mounted, alongside the overview itself.
  let lastBusFetch = performance.now();

  function refreshBuses(): void {
    lastBusFetch = performance.now();
    busPanel(jsx(BusPanel, { refresh: ++busRefresh }));
    uplinkPanel(jsx(UplinkPanel, { refresh: busRefresh }));
  }

  function update(o: Overview): void {
    status.replaceChildren();
    status.hidden = true;
    const v = o.grid.values;
    const p = v['ActivePower']?.value ?? null;
    setText(direction, p === null ? 'No reading' : p >= 0 ? 'Importing' : 'Exporting');
    direction.dataset['dir'] = p === null ? 'none' : p >= 0 ? 'import' : 'export';
    setText(big, kW(p === null ? null : Math.abs(p)));
    setText(signed, p === null ? '' : `${p >= 0 ? '+' : '−'}${kW(Math.abs(p))} kW`);
    showGridMeter(gridMeter, o.grid.meter);
    phases.update(v);
    setText(freq, num(v['Frequency']?.value, 2));
    // A main meter that stopped answering keeps its last values: they must look old, with their age.
    const pv = v['ActivePower'];
    const old = pv !== undefined && pv.value !== null && pv.quality !== 'GOOD';
    hero.classList.toggle('is-old', old);
    gridAge.hidden = !old;
    if (old) setText(gridAge, `Last reading ${ago(pv.ts, siteNow())} — the main meter is not answering`);
    renderCounts(counts, o.meters);
    setText(total, `(${o.meters.total})`);
    if (performance.now() - lastBusFetch > BUS_REFRESH_MS) {
      refreshBuses();
      refreshAlarms();
    }
  }

  void ctx.scope.load(api.overview(), status, update, { loading: false });

  return {
    el,
    onOverview: update,
    onEvent: (name) => name === 'alarm' && refreshAlarms(),
  };
}

function showGridMeter(el: HTMLElement, key: string | null): void {
  if (el.dataset['key'] === (key ?? '')) return;
  el.dataset['key'] = key ?? '';
  el.replaceChildren(...(key ? ['Measured by the main meter ', h('a', { href: href({ page: 'meter', key }) }, key), '.'] : ['No main meter is configured.']));
}

function renderCounts(el: HTMLElement, c: MeterCounts): void {
  const items: Array<[string, number, string]> = [
    ['Online', c.online, 'good'],
    ['Stale', c.stale, 'stale'],
    ['Error', c.error, 'error'],
    ['Disabled', c.disabled, 'off'],
  ];
  // Meters not read yet since start only matter in the first seconds: show them only then.
  if (c.waiting) items.push(['Waiting', c.waiting, 'off']);
  const keys = items.map(([label]) => label).join();
  if (el.dataset['keys'] !== keys) {
    el.dataset['keys'] = keys;
    el.replaceChildren(
      ...items.map(([label, , kind]) =>
        h(
          'div',
          { class: `count count-${kind}`, 'data-testid': `count-${label.toLowerCase()}` },
          h('span', { class: 'count-value' }),
          h('span', { class: 'count-label' }, label),
        ),
      ),
    );
  }
  items.forEach(([, n], i) => {
    const value = el.children[i]?.firstElementChild;
    if (value) setText(value, String(n));
  });
}
