import { h, setText } from '../dom.js';
import { kW, num } from '../format.js';
import type { Values } from '../types.js';

const PHASES = ['L1', 'L2', 'L3'] as const;

/**
 * Per-phase power as bars that grow right for import and left for export from a centre line,
 * with the number beside each bar so nobody has to read the bar length.
 */
export class PhaseBars {
  readonly el: HTMLElement;
  private readonly rows = new Map<string, { fill: HTMLElement; power: HTMLElement; volt: HTMLElement }>();

  constructor() {
    this.el = h('div', { class: 'phases', 'data-testid': 'phases' });
    for (const p of PHASES) {
      const fill = h('span', { class: 'bar-fill' });
      const power = h('span', { class: 'phase-power', 'data-testid': `phase-power-${p}` });
      const volt = h('span', { class: 'phase-volt', 'data-testid': `phase-voltage-${p}` });
      this.el.append(
        h(
          'div',
          { class: 'phase-row', 'data-testid': `phase-${p}` },
          h('span', { class: 'phase-name' }, p),
          h('span', { class: 'bar', 'aria-hidden': 'true' }, h('span', { class: 'bar-zero' }), fill),
          power,
          volt,
        ),
      );
      this.rows.set(p, { fill, power, volt });
    }
  }

  update(values: Values): void {
    const watts = PHASES.map((p) => values[`ActivePower_${p}`]?.value ?? null);
    // Scale to the busiest phase (at least 1 kW) so small loads still show a visible bar.
    const scale = Math.max(1000, ...watts.map((w) => Math.abs(w ?? 0))) * 1.1;
    PHASES.forEach((p, i) => {
      const row = this.rows.get(p);
      if (!row) return;
      const w = watts[i] ?? null;
      const half = w === null ? 0 : (Math.abs(w) / scale) * 50;
      row.fill.style.width = `${half}%`;
      row.fill.style.left = w !== null && w < 0 ? `${50 - half}%` : '50%';
      row.fill.className = `bar-fill ${w !== null && w < 0 ? 'export' : 'import'}`;
      setText(row.power, `${kW(w)} kW`);
      setText(row.volt, `${num(values[`Voltage_${p}`]?.value, 1)} V`);
    });
  }
}
