import type { VNode } from 'preact';
import { api } from '../api.js';
import { ago } from '../format.js';
import type { UplinkState } from '../types.js';
import { Show, useLoad } from '../ui/load.js';

/** The MQTT uplink's state and backlog, fetched again whenever `refresh` changes (it is not in the live stream). */
export function UplinkPanel({ refresh }: { refresh: number }): VNode {
  const state = useLoad(() => api.uplink(), [refresh]);
  return <Show state={state}>{(u) => <UplinkCard u={u} />}</Show>;
}

const LABEL: Readonly<Record<UplinkState['state'], string>> = {
  off: 'Not configured',
  starting: 'Starting',
  connected: 'Connected',
  disconnected: '✕ Disconnected',
};

function UplinkCard({ u }: { u: UplinkState }): VNode {
  if (u.state === 'off')
    return (
      <p class="hint" data-testid="uplink-state">
        No uplink is configured (site file, uplink section).
      </p>
    );
  const bad = u.state === 'disconnected';
  return (
    <article class="card bus" data-testid="uplink">
      <h3>
        MQTT uplink{' '}
        <span class={`badge ${bad ? 'badge-error' : ''}`} data-testid="uplink-state">
          {LABEL[u.state]}
        </span>
      </h3>
      <dl class="figures">
        <Fig term="Queued" value={String(u.queued ?? 0)} testId="uplink-queued" />
        <Fig term="Backlog to replay" value={String(u.backlog ?? 0)} testId="uplink-backlog" />
        <Fig term="Oldest queued" value={u.oldestQueuedMs ? ago(u.oldestQueuedMs, u.now) : '—'} />
        <Fig term="Last broker contact" value={u.lastContactMs ? ago(u.lastContactMs, u.now) : 'never'} />
        {u.dropped ? <Fig term="Dropped (queue full)" value={String(u.dropped)} /> : null}
      </dl>
    </article>
  );
}

const Fig = ({ term, value, testId }: { term: string; value: string; testId?: string }): VNode => (
  <div>
    <dt>{term}</dt>
    <dd data-testid={testId}>{value}</dd>
  </div>
);
