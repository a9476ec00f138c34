import { alarmsApi, sortAlarms } from '../alarms-api.js';
import { h } from '../dom.js';
import { href } from '../router.js';
import { alarmList } from './alarm-list.js';
import { errorBox, loading } from './notice.js';

const REFRESH_MS = 15_000;

/** The open alarms about one meter, on its page. */
export class MeterAlarms {
  readonly el: HTMLElement;
  private readonly list = h('div', {}, loading());
  private readonly timer: number;
  private destroyed = false;

  constructor(private readonly key: string, private readonly tz: string) {
    this.el = h('section', { class: 'card', 'aria-labelledby': 'meter-alarms-title', 'data-testid': 'meter-alarms' },
      h('h2', { id: 'meter-alarms-title' }, 'Open alarms ', h('a', { href: href({ page: 'alarms', state: 'all' }), class: 'small-link' }, 'all alarms')),
      this.list,
    );
    this.refresh();
    this.timer = window.setInterval(() => this.refresh(), REFRESH_MS);
  }

  refresh(): void {
    alarmsApi
      .list('open', this.key)
      .then((r) => {
        if (this.destroyed) return;
        this.list.replaceChildren(alarmList(sortAlarms(r.alarms), this.tz, 'No open alarms for this meter.'));
      })
      .catch((err: unknown) => !this.destroyed && this.list.replaceChildren(errorBox(err)));
  }

  destroy(): void {
    this.destroyed = true;
    clearInterval(this.timer);
  }
}
