import type { VNode } from 'preact';
import { api } from '../api.js';
import { percent } from '../format.js';
import type { Bus } from '../types.js';
import { Show, useLoad } from '../ui/load.js';

/** The site's buses, fetched again whenever `refresh` changes (their counters are not in the live stream). */
export function BusPanel({ refresh }: { refresh: number }): VNode {
  const state = useLoad(() => api.buses(), [refresh]);
  return <Show state={state}>{(r) => <BusCards buses={r.buses} />}</Show>;
}

/** One card per RS-485/Modbus bus: how busy the line is and how often it fails. */
export function BusCards({ buses }: { buses: readonly Bus[] }): VNode {
  if (buses.length === 0) return <p class="hint">No buses configured.</p>;
  return (
    <div class="grid">
      {buses.map((b) => (
        <BusCard key={b.id} b={b} />
      ))}
    </div>
  );
}

function BusCard({ b }: { b: Bus }): VNode {
  const util = b.utilisation === null ? null : Math.max(0, Math.min(1, b.utilisation));
  // Above this the next poll cycle may start late: worth a warning before it overruns.
  const busy = util !== null && util > 0.8;
  const failRate = b.requests > 0 ? b.errors / b.requests : 0;
  return (
    <article class="card bus" data-testid={`bus-${b.id}`}>
      <h3>
        {b.id} <small>{b.transport}</small>
        {b.connected === false ? <span class="badge badge-error"> ✕ NOT CONNECTED</span> : null}
      </h3>
      <div class="meter-line">
        <label for={`bus-util-${b.id}`}>{`Line use ${percent(util)} of the poll interval${busy ? ' (nearly full)' : ''}`}</label>
        <progress id={`bus-util-${b.id}`} max={1} value={util ?? 0} class={busy ? 'busy' : undefined} />
      </div>
      <dl class="figures">
        <Fig term="Requests" value={String(b.requests)} />
        <Fig term="Errors" value={`${b.errors} (${percent(failRate)})`} />
        <Fig term="Timeouts" value={String(b.timeouts)} />
        <Fig term="CRC errors" value={String(b.crcErrors)} />
        <Fig term="Last cycle" value={b.lastCycleMs === null ? '—' : `${Math.round(b.lastCycleMs)} ms`} />
        <Fig term="Sent / received" value={`${kib(b.bytesTx)} / ${kib(b.bytesRx)}`} />
        {b.overruns !== undefined ? <Fig term="Overruns" value={String(b.overruns)} /> : null}
      </dl>
      {b.lastError ? <p class="hint">Last error: {b.lastError}</p> : null}
    </article>
  );
}

const Fig = ({ term, value }: { term: string; value: string }): VNode => (
  <div>
    <dt>{term}</dt>
    <dd>{value}</dd>
  </div>
);

function kib(bytes: number): string {
  return bytes < 10_240 ? `${bytes} B` : bytes < 10_485_760 ? `${(bytes / 1024).toFixed(0)} KiB` : `${(bytes / 1_048_576).toFixed(1)} MiB`;
}
