import { h, setText } from '../dom.js';
import { siteNow } from '../clock.js';
import { ago, clock, kW, num } from '../format.js';
import { badge, badgeKind, setBadge } from '../quality.js';
import { lastValueTs, phasesOf } from '../readings.js';
import type { Meter, MeterUpdate, Values } from '../types.js';

type Getter = (v: Values) => string;

const ch =
  (name: string, digits: number, scale = 1): Getter =>
  (v) => {
    const x = v[name]?.value;
    return num(x === null || x === undefined ? x : x / scale, digits);
  };

/** The meter's latest readings at the top of its page: totals, then a small per-phase table. */
export class MeterLive {
  readonly el: HTMLElement;
  readonly badge: HTMLElement;
  private readonly fields: Array<[HTMLElement, Getter]> = [];
  private readonly when: HTMLElement;

  constructor(
    private readonly meter: Meter,
    private readonly tz: string,
  ) {
    this.badge = badge(badgeKind(meter.quality, meter.enabled));
    this.when = h('span', { 'data-testid': 'meter-reading-time' });
    const phases = phasesOf(meter.values, meter.phases);
    const totals = h(
      'dl',
      { class: 'figures live-totals' },
      this.fig('Power', 'kW', (v) => kW(v['ActivePower']?.value), 'live-power'),
      this.fig('Import', 'kWh', ch('EnergyImport', 2), 'live-import'),
      this.fig('Export', 'kWh', ch('EnergyExport', 2), 'live-export'),
      this.fig('Frequency', 'Hz', ch('Frequency', 2), 'live-frequency'),
      this.fig('Power factor', '', ch('PowerFactor', 2), 'live-pf'),
    );
    const table = h(
      'table',
      { class: 'phase-table', 'data-testid': 'live-phases' },
      h('caption', { class: 'visually-hidden' }, 'Per-phase readings'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Phase'),
          h('th', { scope: 'col', class: 'num' }, 'V'),
          h('th', { scope: 'col', class: 'num' }, 'A'),
          h('th', { scope: 'col', class: 'num' }, 'kW'),
        ),
      ),
      h(
        'tbody',
        {},
        ...phases.map((p) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, p),
            this.cell(ch(`Voltage_${p}`, 1)),
            this.cell(ch(`Current_${p}`, 2)),
            this.cell(ch(`ActivePower_${p}`, 2, 1000)),
          ),
        ),
      ),
    );
    this.el = h(
      'section',
      { class: 'card live', 'aria-label': 'Latest readings', 'data-testid': 'live-values' },
      h('p', { class: 'live-head' }, this.badge, ' ', this.when),
      totals,
      phases.length > 0 ? table : null,
    );
    this.update(meter);
  }

  private fig(label: string, unit: string, get: Getter, testId: string): HTMLElement {
    const dd = h('dd', { 'data-testid': testId });
    this.fields.push([dd, (v) => `${get(v)}${unit ? ` ${unit}` : ''}`]);
    return h('div', {}, h('dt', {}, label), dd);
  }

  private cell(get: Getter): HTMLElement {
    const td = h('td', { class: 'num' });
    this.fields.push([td, get]);
    return td;
  }

  update(u: MeterUpdate): void {
    setBadge(this.badge, badgeKind(u.quality, this.meter.enabled));
    for (const [el, get] of this.fields) setText(el, get(u.values));
    const ts = lastValueTs(u.values);
    // Values kept from before the meter stopped answering look old: greyed, with their age.
    const old = ts !== null && u.quality !== 'GOOD';
    this.el.classList.toggle('is-old', old);
    this.when.classList.toggle('old', old);
    setText(
      this.when,
      ts !== null
        ? `reading of ${clock(ts, this.tz)}${old ? `, ${ago(ts, siteNow())} — not answering` : ''}`
        : u.quality === 'ERROR'
          ? 'no valid reading'
          : 'no reading yet',
    );
  }
}
