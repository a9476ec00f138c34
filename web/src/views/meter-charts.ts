import type uPlot from 'uplot';
import { api } from '../api.js';
import { alignSeries, slotted, type Points } from '../charts/align.js';
import type { ChartSpec, SeriesSpec } from '../charts/chart.js';
import { Panel } from '../charts/panel.js';
import { loadedUPlot, loadUPlot } from '../charts/uplot-loader.js';
import { h } from '../dom.js';
import { addDays, dayRange, midnight, monthRange } from '../tz.js';
import type { Day, Interval, MeterUpdate, Site } from '../types.js';
import { errorText } from './notice.js';

const IMPORT = '#2563eb';
const EXPORT = '#15803d';
const PHASE_STYLE: Record<string, Pick<SeriesSpec, 'color' | 'dash'>> = {
  L1: { color: '#b45309' },
  L2: { color: '#111827', dash: [6, 3] },
  L3: { color: '#7c3aed', dash: [2, 3] },
};
const QUARTER_MS = 15 * 60_000;
const INTERVAL_REFRESH_MS = 5 * 60_000;
/** Redrawing a day of points every second costs a cheap phone's battery; a few seconds' lag costs nothing. */
const LIVE_REDRAW_MS = 5_000;

/** The meter page's four charts for one chosen day, kept live while that day is today. */
export class MeterCharts {
  readonly el: HTMLElement;
  private readonly power = new Panel('Power (kW): + import, − export', 'chart-power');
  private readonly voltage = new Panel('Voltage (V)', 'chart-voltage');
  private readonly quarters = new Panel('Energy per 15 minutes (kWh): import up, export down', 'chart-intervals');
  private readonly daily = new Panel('Energy per day', 'chart-daily');
  private gen = 0;
  private day = '';
  private month = '';
  private powerPts: Array<[number, number | null]> = [];
  private voltPts: Array<Array<[number, number | null]>> = [];
  private intervalsAt = 0;
  private drawnAt = 0;
  private pending = { power: false, volts: false };

  constructor(
    private readonly key: string,
    private readonly phases: string[],
    private readonly site: Site,
    private readonly isToday: (day: string) => boolean,
  ) {
    this.el = h('div', { class: 'charts' }, this.power.el, this.voltage.el, this.quarters.el, this.daily.el);
    if (phases.length === 0) this.voltage.el.hidden = true;
  }

  async show(day: string): Promise<void> {
    const gen = ++this.gen;
    this.day = day;
    const current = (): boolean => gen === this.gen;
    const panels = [this.power, this.voltage, this.quarters, this.daily];
    let U: typeof uPlot;
    try {
      U = await loadUPlot();
    } catch (err) {
      for (const p of panels) p.say(errorText(err));
      return;
    }
    const [from, to] = dayRange(day, this.site.timezone);
    const month = day.slice(0, 7);
    const jobs = [this.loadPower(U, from, to, current), this.loadVoltage(U, from, to, current), this.loadQuarters(U, from, to, current)];
    if (month !== this.month || !this.daily.chart) jobs.push(this.loadDaily(U, day, current));
    this.month = month;
    await Promise.all(jobs);
  }

  private async guard(panel: Panel, current: () => boolean, work: () => Promise<void>, quiet = false): Promise<void> {
    if (!quiet) panel.say('Loading…');
    try {
      await work();
    } catch (err) {
      if (current()) panel.say(errorText(err));
    }
  }

  private loadPower(U: typeof uPlot, from: number, to: number, current: () => boolean): Promise<void> {
    return this.guard(this.power, current, async () => {
      const r = await api.history(this.key, 'ActivePower', from, to);
      if (!current()) return;
      this.powerPts = r.points.map(([t, v]) => [t, v]);
      this.drawPower(U);
    });
  }

  private loadVoltage(U: typeof uPlot, from: number, to: number, current: () => boolean): Promise<void> {
    if (this.phases.length === 0) return Promise.resolve();
    return this.guard(this.voltage, current, async () => {
      const rs = await Promise.all(this.phases.map((p) => api.history(this.key, `Voltage_${p}`, from, to)));
      if (!current()) return;
      this.voltPts = rs.map((r) => r.points.map(([t, v]) => [t, v]));
      this.drawVoltage(U);
    });
  }

  private range(): [number, number] {
    return dayRange(this.day, this.site.timezone);
  }

  private drawPower(U: typeof uPlot): void {
    const data = alignSeries([this.powerPts], this.maxGap(this.powerPts), (w) => w / 1000);
    this.power.say(this.powerPts.length ? '' : 'No readings on this day.');
    this.power.draw(
      U,
      { kind: 'line', tz: this.site.timezone, range: this.range(), yLabel: 'kW', series: [{ label: 'Power', color: IMPORT, digits: 2, unit: 'kW' }] },
      data,
    );
  }

  private drawVoltage(U: typeof uPlot): void {
    const data = alignSeries(this.voltPts, Math.max(...this.voltPts.map((p) => this.maxGap(p))));
    this.voltage.say(this.voltPts.some((p) => p.length) ? '' : 'No readings on this day.');
    const series = this.phases.map((p) => ({ label: p, digits: 1, unit: 'V', color: '#111827', ...PHASE_STYLE[p] }));
    this.voltage.draw(U, { kind: 'line', tz: this.site.timezone, range: this.range(), yLabel: 'V', series }, data);
  }

  /** A silence much longer than the usual spacing of readings is an outage: break the line there. */
  private maxGap(pts: Points): number {
    const gaps: number[] = [];
    for (let i = 1; i < pts.length && gaps.length < 200; i++) gaps.push((pts[i]?.[0] ?? 0) - (pts[i - 1]?.[0] ?? 0));
    gaps.sort((a, b) => a - b);
    const median = gaps[Math.floor(gaps.length / 2)] ?? 0;
    return Math.max(5 * median, 3 * this.site.pollIntervalMs);
  }

  private loadQuarters(U: typeof uPlot, from: number, to: number, current: () => boolean, quiet = false): Promise<void> {
    return this.guard(
      this.quarters,
      current,
      async () => {
        const { intervals } = await api.intervals(this.key, from, to);
        if (!current()) return;
        this.intervalsAt = performance.now();
        const slots: number[] = [];
        for (let t = from; t < to; t += QUARTER_MS) slots.push(t);
        this.quarters.say(intervals.length ? '' : 'No complete 15-minute intervals on this day yet.');
        this.quarters.draw(
          U,
          energySpec(this.site.timezone, [from, to]),
          energyData(
            slots,
            intervals.map((i: Interval) => [i.start, i]),
          ),
        );
      },
      quiet,
    );
  }

  private loadDaily(U: typeof uPlot, day: string, current: () => boolean): Promise<void> {
    const tz = this.site.timezone;
    const [from, to] = monthRange(day, tz);
    const label = new Intl.DateTimeFormat('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(`${day.slice(0, 7)}-01T00:00:00Z`));
    this.daily.title(`Energy per day, ${label} (kWh)`);
    return this.guard(this.daily, current, async () => {
      const { days } = await api.daily(this.key, from, to);
      if (!current()) return;
      const slots: number[] = [];
      for (let d = `${day.slice(0, 7)}-01`; d.startsWith(day.slice(0, 7)); d = addDays(d, 1)) slots.push(midnight(d, tz));
      this.daily.say(days.length ? '' : 'No energy recorded in this month yet.');
      this.daily.draw(
        U,
        energySpec(tz, [from, to]),
        energyData(
          slots,
          days.map((d: Day) => [midnight(d.day, tz), d]),
        ),
      );
    });
  }

  /** Extends today's lines with each streamed reading, and refreshes the 15-minute bars now and then. */
  live(u: MeterUpdate): void {
    const U = loadedUPlot();
    if (!this.day || !this.isToday(this.day) || !U) return;
    const add = (list: Array<[number, number | null]>, channel: string): boolean => {
      const cv = u.values[channel];
      const last = list[list.length - 1];
      if (!cv || cv.quality !== 'GOOD' || cv.value === null || (last && cv.ts <= last[0])) return false;
      list.push([cv.ts, cv.value]);
      return true;
    };
    if (this.power.chart && add(this.powerPts, 'ActivePower')) this.pending.power = true;
    if (this.voltage.chart && this.phases.map((p, i) => add((this.voltPts[i] ??= []), `Voltage_${p}`)).some(Boolean)) this.pending.volts = true;
    if (performance.now() - this.drawnAt >= LIVE_REDRAW_MS && (this.pending.power || this.pending.volts)) {
      if (this.pending.power) this.drawPower(U);
      if (this.pending.volts) this.drawVoltage(U);
      this.pending = { power: false, volts: false };
      this.drawnAt = performance.now();
    }
    if (this.quarters.chart && performance.now() - this.intervalsAt > INTERVAL_REFRESH_MS) {
      const [from, to] = this.range();
      const gen = this.gen;
      void this.loadQuarters(U, from, to, () => gen === this.gen, true);
    }
  }

  destroy(): void {
    this.gen++;
    for (const p of [this.power, this.voltage, this.quarters, this.daily]) p.chart?.destroy();
  }
}

function energySpec(tz: string, range: [number, number]): ChartSpec {
  return {
    kind: 'bars',
    tz,
    range,
    yLabel: 'kWh',
    series: [
      { label: 'Import', color: IMPORT, digits: 3, unit: 'kWh' },
      { label: 'Export', color: EXPORT, digits: 3, unit: 'kWh', abs: true },
    ],
  };
}

/** Import above the axis, export below it, on fixed slots; slots the server adds are kept too. */
function energyData(slots: number[], rows: Array<[number, { importKWh: number | null; exportKWh: number | null }]>): uPlot.AlignedData {
  const values = new Map<number, Array<number | null>>();
  for (const [t, r] of rows) values.set(t, [r.importKWh, r.exportKWh === null ? null : -r.exportKWh]);
  const all = [...new Set([...slots, ...values.keys()])].sort((a, b) => a - b);
  return slotted(all, values, 2);
}
