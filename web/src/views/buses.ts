import { h } from '../dom.js';
import { percent } from '../format.js';
import type { Bus } from '../types.js';

/** One card per RS-485/Modbus bus: how busy the line is and how often it fails. */
export function busCards(buses: Bus[]): HTMLElement {
  if (buses.length === 0) return h('p', { class: 'hint' }, 'No buses configured.');
  return h('div', { class: 'grid' }, ...buses.map(busCard));
}

function busCard(b: Bus): HTMLElement {
  const util = b.utilisation === null ? null : Math.max(0, Math.min(1, b.utilisation));
  // Above this the next poll cycle may start late: worth a warning before it overruns.
  const busy = util !== null && util > 0.8;
  const failRate = b.requests > 0 ? b.errors / b.requests : 0;
  return h(
    'article',
    { class: 'card bus', 'data-testid': `bus-${b.id}` },
    h('h3', {}, b.id, ' ', h('small', {}, b.transport), b.connected === false ? h('span', { class: 'badge badge-error' }, ' ✕ NOT CONNECTED') : null),
    h('div', { class: 'meter-line' },
      h('label', { for: `bus-util-${b.id}` }, `Line use ${percent(util)} of the poll interval${busy ? ' (nearly full)' : ''}`),
      h('progress', { id: `bus-util-${b.id}`, max: 1, value: util ?? 0, class: busy ? 'busy' : null }),
    ),
    h('dl', { class: 'figures' },
      fig('Requests', String(b.requests)),
      fig('Errors', `${b.errors} (${percent(failRate)})`),
      fig('Timeouts', String(b.timeouts)),
      fig('CRC errors', String(b.crcErrors)),
      fig('Last cycle', b.lastCycleMs === null ? '—' : `${Math.round(b.lastCycleMs)} ms`),
      fig('Sent / received', `${kib(b.bytesTx)} / ${kib(b.bytesRx)}`),
      b.overruns !== undefined ? fig('Overruns', String(b.overruns)) : null,
    ),
    b.lastError ? h('p', { class: 'hint' }, `Last error: ${b.lastError}`) : null,
  );
}

const fig = (term: string, value: string): HTMLElement => h('div', {}, h('dt', {}, term), h('dd', {}, value));

function kib(bytes: number): string {
  return bytes < 10_240 ? `${bytes} B` : bytes < 10_485_760 ? `${(bytes / 1024).toFixed(0)} KiB` : `${(bytes / 1_048_576).toFixed(1)} MiB`;
}
