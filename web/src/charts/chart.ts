import type uPlot from 'uplot';

export interface SeriesSpec {
  label: string;
  color: string;
  /** Dash pattern so lines differ by more than colour. */
  dash?: number[];
  digits: number;
  unit: string;
  /** Show the magnitude in the legend (export is drawn below zero but read as a positive amount). */
  abs?: boolean;
}

export interface ChartSpec {
  /** Time zone for the axis labels: the site's, not the phone's. */
  tz: string;
  range: [number, number];
  yLabel: string;
  series: SeriesSpec[];
  kind: 'line' | 'bars';
  height?: number;
}

const AXIS = { stroke: '#374151', grid: { stroke: '#e5e7eb', width: 1 }, ticks: { stroke: '#d1d5db', width: 1 } };

const DAY_MS = 86_400_000;

/** 24-hour clock and day-month labels: what operators in East Africa read, not uPlot's US defaults. */
function timeAxis(U: typeof uPlot, tzDate: (ts: number) => Date): uPlot.Axis {
  const hm = U.fmtDate('{HH}:{mm}');
  const dm = U.fmtDate('{D} {MMM}');
  return { ...AXIS, values: (_u, splits, _i, _space, incr) => splits.map((ts) => (incr >= DAY_MS ? dm : hm)(tzDate(ts))) };
}

function options(U: typeof uPlot, spec: ChartSpec, width: number): uPlot.Options {
  const bars = spec.kind === 'bars' ? U.paths.bars?.({ size: [0.8, 24, 1], align: 1 }) : undefined;
  const tzDate = (ts: number): Date => U.tzDate(new Date(ts), spec.tz);
  return {
    width,
    height: spec.height ?? 200,
    ms: 1,
    tzDate,
    scales: { x: { time: true, auto: false, range: () => spec.range } },
    cursor: { drag: { x: false, y: false } },
    legend: { live: true },
    series: [
      { label: 'Time', value: spec.kind === 'bars' && spec.range[1] - spec.range[0] > 2 * DAY_MS ? '{D} {MMM}' : '{HH}:{mm}:{ss}' },
      ...spec.series.map<uPlot.Series>((s) => ({
        label: s.label,
        stroke: s.color,
        width: spec.kind === 'bars' ? 0 : 1.5,
        ...(s.dash ? { dash: s.dash } : {}),
        ...(bars ? { paths: bars, fill: s.color, points: { show: false } } : { points: { show: false } }),
        value: (_u: uPlot, v: number | null | undefined) => (v === null || v === undefined ? '—' : `${(s.abs ? Math.abs(v) : v).toFixed(s.digits)} ${s.unit}`),
      })),
    ],
    axes: [timeAxis(U, tzDate), { ...AXIS, label: spec.yLabel, size: 56, labelSize: 18 }],
  };
}

/** A uPlot chart that follows its container's width (phone rotation, window resize). */
export class Chart {
  readonly plot: uPlot;
  private readonly observer: ResizeObserver;

  constructor(
    U: typeof uPlot,
    private readonly host: HTMLElement,
    private readonly spec: ChartSpec,
    data: uPlot.AlignedData,
  ) {
    this.plot = new U(options(U, spec, this.width()), data, host);
    this.observer = new ResizeObserver(() => {
      const w = this.width();
      if (Math.abs(w - this.plot.width) > 1) this.plot.setSize({ width: w, height: this.plot.height });
    });
    this.observer.observe(host);
  }

  private width(): number {
    return Math.max(200, Math.floor(this.host.clientWidth || 320));
  }

  /** New data, and optionally a new time window (another day or month). */
  setData(data: uPlot.AlignedData, range?: [number, number]): void {
    if (range) this.spec.range = range;
    this.plot.setData(data);
  }

  destroy(): void {
    this.observer.disconnect();
    this.plot.destroy();
  }
}
