import { alarmsApi, needsAttention, sortAlarms, type Alarm } from '../alarms-api.js';
import { h, setText } from '../dom.js';
import { replaceRoute } from '../router.js';
import { alarmList } from './alarm-list.js';
import { loading } from './notice.js';
import type { Ctx, View } from './view.js';

const STATES = [
  ['open', 'Open'],
  ['cleared', 'Cleared'],
  ['all', 'All'],
] as const;
type Filter = (typeof STATES)[number][0];

/** A fallback refresh in case the stream carries no alarm events; the list is small. */
const REFRESH_MS = 5_000;

/** The alarm list: open ones first, the unacknowledged among them on top; refreshed while shown. */
export function alarmsView(ctx: Ctx, initial?: string): View {
  let filter: Filter = STATES.find(([s]) => s === initial)?.[0] ?? 'open';
  const summary = h('p', { class: 'hint', 'data-testid': 'alarms-summary', 'aria-live': 'polite' });
  const list = h('div', {}, loading());
  const chips = h(
    'div',
    { class: 'chips', role: 'group', 'aria-label': 'Show alarms' },
    ...STATES.map(([s, label]) =>
      h(
        'button',
        { type: 'button', class: 'chip', 'data-state': s, 'aria-pressed': String(s === filter), 'data-testid': `alarms-filter-${s}`, onclick: () => choose(s) },
        label,
      ),
    ),
  );
  const el = h('div', { class: 'page', 'data-testid': 'alarms' }, h('div', { class: 'page-head' }, h('h1', {}, 'Alarms'), chips), summary, list);

  function choose(s: Filter): void {
    filter = s;
    for (const b of chips.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset['state'] === s));
    replaceRoute({ page: 'alarms', state: s === 'open' ? undefined : s });
    refresh(true);
  }

  function show(alarms: Alarm[]): void {
    const open = alarms.filter((a) => a.state === 'open').length;
    const unacked = alarms.filter(needsAttention).length;
    setText(summary, filter === 'cleared' ? `${alarms.length} cleared` : `${open} open, ${unacked} not acknowledged`);
    const empty = filter === 'open' ? 'No open alarms. All is well.' : 'No alarms.';
    list.replaceChildren(alarmList(sortAlarms(alarms), ctx.site.timezone, empty));
  }

  /** Only the newest answer is shown: a quick change of filter must not show the previous list. */
  function refresh(afresh = false): void {
    void ctx.scope.load(alarmsApi.list(filter), list, (r) => show(r.alarms), { key: 'list', loading: afresh ? undefined : false });
  }

  refresh();
  ctx.scope.every(Math.max(REFRESH_MS, ctx.site.pollIntervalMs), refresh);
  return {
    el,
    onEvent(name) {
      if (name === 'alarm') refresh();
    },
  };
}
