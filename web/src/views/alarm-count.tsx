import type { VNode } from 'preact';
import { alarmsApi, needsAttention } from '../alarms-api.js';
import { href } from '../router.js';
import { useLoad } from '../ui/load.js';

/** The overview's alarm tile: how many are open, how many nobody has taken on yet. Counts again when `refresh` changes. */
export function AlarmCount({ refresh }: { refresh: number }): VNode {
  const state = useLoad(() => alarmsApi.list('open'), [refresh]);
  const alarms = state.data?.alarms;
  const unacked = alarms?.filter(needsAttention).length ?? 0;
  const note = state.error ? 'could not load alarms' : !alarms ? '' : alarms.length === 0 ? 'all clear' : unacked ? `${unacked} not acknowledged` : 'all acknowledged';
  return (
    <section class="card tile wide alarm-tile" aria-labelledby="alarm-tile-title" data-testid="overview-alarms" data-attention={alarms ? String(unacked > 0) : undefined}>
      <h2 id="alarm-tile-title" class="tile-label">
        Open alarms <a href={href({ page: 'alarms' })} class="small-link">see all</a>
      </h2>
      <span>
        <span class="tile-value" data-testid="alarms-open">{alarms ? String(alarms.length) : '—'}</span> <span class="hint" data-testid="alarms-unacked">{note}</span>
      </span>
    </section>
  );
}
