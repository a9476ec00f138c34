import { alarmsApi, needsAttention } from '../alarms-api.js';
import { h, setText } from '../dom.js';
import { href } from '../router.js';

/** The overview's alarm tile: how many are open, how many nobody has taken on yet. */
export class AlarmCount {
  readonly el: HTMLElement;
  private readonly open = h('span', { class: 'tile-value', 'data-testid': 'alarms-open' }, '—');
  private readonly note = h('span', { class: 'hint', 'data-testid': 'alarms-unacked' });

  constructor() {
    this.el = h('section', { class: 'card tile wide alarm-tile', 'aria-labelledby': 'alarm-tile-title', 'data-testid': 'overview-alarms' },
      h('h2', { id: 'alarm-tile-title', class: 'tile-label' }, 'Open alarms ', h('a', { href: href({ page: 'alarms' }), class: 'small-link' }, 'see all')),
      h('span', {}, this.open, ' ', this.note),
    );
  }

  refresh(): void {
    alarmsApi
      .list('open')
      .then(({ alarms }) => {
        const unacked = alarms.filter(needsAttention).length;
        setText(this.open, String(alarms.length));
        setText(this.note, alarms.length === 0 ? 'all clear' : unacked ? `${unacked} not acknowledged` : 'all acknowledged');
        this.el.dataset['attention'] = String(unacked > 0);
      })
      .catch(() => setText(this.note, 'could not load alarms'));
  }
}
