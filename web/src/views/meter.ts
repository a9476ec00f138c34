import { api } from '../api.js';
import { append, h } from '../dom.js';
import { phasesOf } from '../readings.js';
import { can } from '../roles.js';
import { href, replaceRoute } from '../router.js';
import { addDays, isDay, today } from '../tz.js';
import type { Meter, ValuesEvent } from '../types.js';
import { MeterAlarms } from './meter-alarms.js';
import { MeterCharts } from './meter-charts.js';
import { MeterLive } from './meter-live.js';
import { meterManage } from './meter-manage.js';
import { loading } from './notice.js';
import type { Ctx, View } from './view.js';

/** One meter: live values on top, its open alarms, a chosen day's charts and its CSV, and (installers) its configuration. */
export function meterView(ctx: Ctx, key: string, day?: string): View {
  const tz = ctx.site.timezone;
  const body = h('div', { class: 'stack' }, loading());
  const el = h(
    'div',
    { class: 'page', 'data-testid': 'meter-page', 'data-key': key },
    h('p', {}, h('a', { href: href({ page: 'meters' }), 'data-testid': 'back-to-meters' }, '← All meters')),
    body,
  );
  let live: MeterLive | null = null;
  let charts: MeterCharts | null = null;
  let alarms: MeterAlarms | null = null;

  function show(meter: Meter): void {
    charts?.destroy();
    alarms?.destroy();
    live = new MeterLive(meter, tz);
    alarms = new MeterAlarms(key, tz, ctx.scope.child());
    charts = new MeterCharts(key, phasesOf(meter.values, meter.phases), ctx.site, (d) => d === today(tz));
    const chosen = day && isDay(day) ? day : today(tz);
    const picker = h('input', { id: 'day', type: 'date', value: chosen, max: today(tz), required: true, 'data-testid': 'day-picker' });
    const csv = h('a', { class: 'button', download: '', 'data-testid': 'csv-link' }, 'Download CSV');
    const csv15 = h('a', { class: 'button secondary', download: '', 'data-testid': 'csv-intervals-link' }, '15-min CSV');
    const choose = (d: string): void => {
      if (!isDay(d) || d > today(tz)) return;
      picker.value = d;
      day = d;
      csv.setAttribute('href', api.csvUrl(key, d));
      csv.setAttribute('aria-label', `Download CSV of readings on ${d}`);
      csv15.setAttribute('href', api.csvUrl(key, d, 'intervals'));
      csv15.setAttribute('aria-label', `Download CSV of 15-minute intervals on ${d}`);
      replaceRoute({ page: 'meter', key, day: d });
      void charts?.show(d);
    };
    picker.addEventListener('change', () => choose(picker.value));
    const step = (n: number, label: string, text: string): HTMLButtonElement =>
      h('button', { type: 'button', class: 'step', 'aria-label': label, onclick: () => choose(addDays(picker.value || chosen, n)) }, text);
    body.replaceChildren();
    append(
      body,
      h(
        'div',
        {},
        h('h1', { 'data-testid': 'meter-name' }, meter.name),
        h(
          'p',
          { class: 'hint' },
          `Address ${meter.id} · ${meter.model} · bus ${meter.bus} · ${meter.role === 'main' ? 'main (grid) meter' : 'customer meter'}${meter.enabled ? '' : ' · disabled'}`,
        ),
      ),
      meter.lastError ? h('p', { class: 'notice notice-error', 'data-testid': 'meter-last-error' }, `Last read failed: ${meter.lastError}`) : null,
      live.el,
      alarms.el,
      h(
        'div',
        { class: 'day-bar' },
        h('label', { for: 'day' }, 'Day'),
        step(-1, 'Previous day', '◀'),
        picker,
        step(1, 'Next day', '▶'),
        h('span', { class: 'downloads' }, csv, csv15),
      ),
      charts.el,
      can(ctx.user, 'installer') ? meterManage(meter, ctx.site.pollIntervalMs, load) : null,
    );
    choose(chosen);
  }

  function load(): void {
    void ctx.scope.load(api.meter(key), body, show, { key: 'meter', loading: false });
  }

  load();
  return {
    el,
    onValues(e: ValuesEvent) {
      const u = e.meters.find((m) => m.key === key);
      if (!u) return;
      live?.update(u);
      charts?.live(u);
    },
    onEvent(name) {
      if (name === 'alarm') alarms?.refresh();
    },
    destroy() {
      charts?.destroy();
    },
  };
}
