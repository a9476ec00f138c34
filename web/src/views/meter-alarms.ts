import { alarmsApi, sortAlarms } from '../alarms-api.js';
import { h } from '../dom.js';
import { href } from '../router.js';
import { alarmList } from './alarm-list.js';
import type { PageScope } from '../loader.js';
import { loading } from './notice.js';

const REFRESH_MS = 15_000;

/** The open alarms about one meter, on its page; `scope` is its own (the meter page rebuilds it on a reload). */
export class MeterAlarms {
  readonly el: HTMLElement;
  private readonly list = h('div', {}, loading());
  constructor(
    private readonly key: string,
    private readonly tz: string,
    private readonly scope: PageScope,
  ) {
    this.el = h(
      'section',
      { class: 'card', 'aria-labelledby': 'meter-alarms-title', 'data-testid': 'meter-alarms' },
      h('h2', { id: 'meter-alarms-title' }, 'Open alarms ', h('a', { href: href({ page: 'alarms', state: 'all' }), class: 'small-link' }, 'all alarms')),
      this.list,
    );
    this.refresh();
    scope.every(REFRESH_MS, () => this.refresh());
  }

  destroy(): void {
    this.scope.end();
  }

  refresh(): void {
    void this.scope.load(alarmsApi.list('open', this.key), this.list, (r) => alarmList(sortAlarms(r.alarms), this.tz, 'No open alarms for this meter.'), {
      key: 'meter-alarms',
      loading: false,
    });
  }
}
