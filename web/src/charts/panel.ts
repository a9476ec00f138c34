import type uPlot from 'uplot';
import { h, setText } from '../dom.js';
import { Chart, type ChartSpec } from './chart.js';

/** One titled card that holds a chart, with a line of text for loading, empty and error states. */
export class Panel {
  readonly el: HTMLElement;
  readonly host: HTMLElement;
  private readonly note: HTMLElement;
  private readonly heading: HTMLElement;
  chart: Chart | null = null;

  constructor(
    title: string,
    readonly id: string,
  ) {
    this.heading = h('h2', { id: `${id}-title` }, title);
    this.note = h('p', { class: 'chart-note', 'data-testid': `${id}-note`, 'aria-live': 'polite' }, 'Loading…');
    // The canvas says nothing to a screen reader: name what it shows (the CSV has the numbers).
    this.host = h('div', { class: 'chart-host', role: 'img', 'aria-label': title, 'data-testid': id });
    this.el = h('section', { class: 'card chart', 'aria-labelledby': `${id}-title` }, this.heading, this.note, this.host);
  }

  title(t: string): void {
    setText(this.heading, t);
    this.host.setAttribute('aria-label', t);
  }

  say(text: string): void {
    setText(this.note, text);
    this.note.hidden = text === '';
  }

  draw(U: typeof uPlot, spec: ChartSpec, data: uPlot.AlignedData): void {
    if (this.chart) this.chart.setData(data, spec.range);
    else this.chart = new Chart(U, this.host, spec, data);
  }
}
