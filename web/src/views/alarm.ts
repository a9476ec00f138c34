import { alarmsApi, type Alarm, type AlarmEvent } from '../alarms-api.js';
import { h } from '../dom.js';
import { capitalise, dateTime } from '../format.js';
import { can } from '../roles.js';
import { href } from '../router.js';
import { alarmStateText, severityBadge, subjectOf } from './alarm-list.js';
import { field } from './form.js';
import { errorBox, loading } from './notice.js';
import type { Ctx, View } from './view.js';

/** One alarm: what, since when, its timeline, and (for operators) the acknowledgement. */
export function alarmView(ctx: Ctx, id: string): View {
  const tz = ctx.site.timezone;
  const body = h('div', { class: 'stack' }, loading());
  const el = h(
    'div',
    { class: 'page narrow', 'data-testid': 'alarm-page', 'data-id': id },
    h('p', {}, h('a', { href: href({ page: 'alarms' }), 'data-testid': 'back-to-alarms' }, '← All alarms')),
    body,
  );
  /** The note being typed, if any: a stream update must not wipe it. */
  let typing: HTMLTextAreaElement | HTMLInputElement | HTMLSelectElement | null = null;

  function load(): void {
    void ctx.scope.load(alarmsApi.get(id), body, (a) => render(a, a.events), { key: 'alarm', loading: false });
  }

  function render(a: Alarm, events: AlarmEvent[]): HTMLElement[] {
    return [
      h('h1', { class: 'alarm-h1' }, severityBadge(a.severity), ` ${capitalise(a.rule.replace(/[_-]/g, ' '))}`),
      h(
        'section',
        { class: 'card' },
        h('p', { class: 'alarm-message', 'data-testid': 'alarm-message' }, a.message),
        h(
          'dl',
          { class: 'figures' },
          fig('Subject', subjectOf(a.subject)),
          fig('State', h('span', { 'data-testid': 'alarm-state' }, alarmStateText(a, tz))),
          fig('Raised', dateTime(a.raisedAt, tz)),
          a.clearedAt ? fig('Cleared', dateTime(a.clearedAt, tz)) : null,
          a.acknowledged ? fig('Acknowledged', `${dateTime(a.acknowledged.at, tz)} by ${a.acknowledged.by}`) : null,
        ),
        a.acknowledged?.note ? h('p', { class: 'notes', 'data-testid': 'ack-note-text' }, h('strong', {}, 'Note: '), a.acknowledged.note) : null,
      ),
      a.acknowledged ? h('p', { class: 'notice notice-ok', 'data-testid': 'alarm-acked' }, `Acknowledged by ${a.acknowledged.by}`) : ackForm(a),
      h(
        'section',
        { 'aria-labelledby': 'events-title' },
        h('h2', { id: 'events-title' }, 'Timeline'),
        events.length === 0
          ? h('p', { class: 'hint' }, 'No events.')
          : h(
              'ol',
              { class: 'timeline', 'data-testid': 'alarm-events' },
              ...events.map((e) =>
                h(
                  'li',
                  {},
                  h('span', { class: 'when' }, dateTime(e.at, tz)),
                  ' ',
                  h('strong', {}, capitalise(e.kind)),
                  e.by ? ` by ${e.by}` : '',
                  e.message ? ` — ${e.message}` : '',
                ),
              ),
            ),
      ),
    ];
  }

  function ackForm(a: Alarm): HTMLElement {
    if (!can(ctx.user, 'operator')) return h('p', { class: 'hint' }, 'An operator can acknowledge this alarm.');
    const note = field('Note, optional (what you are doing about it)', h('textarea', { id: 'ack-note', rows: 2, maxlength: 500, 'data-testid': 'ack-note' }));
    typing = note.control;
    const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'ack-submit' }, 'Acknowledge');
    const msg = h('div', { 'aria-live': 'polite' });
    const form = h(
      'form',
      { class: 'card form', 'aria-label': 'Acknowledge the alarm', 'data-testid': 'ack-form' },
      note.el,
      h('div', { class: 'actions' }, submit),
      msg,
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      submit.disabled = true;
      alarmsApi
        .ack(String(a.id), note.control.value.trim())
        .then(() => {
          ctx.alarmsChanged();
          load();
        })
        .catch((err: unknown) => {
          submit.disabled = false;
          msg.replaceChildren(errorBox(err, 'ack-error'));
        });
    });
    return form;
  }

  load();
  return {
    el,
    onEvent(name, data) {
      if (name !== 'alarm' || typeof data !== 'object' || data === null || !('id' in data) || String(data.id) !== id) return;
      if (typing?.isConnected && typing.value.trim()) return;
      load();
    },
  };
}

const fig = (term: string, value: HTMLElement | string): HTMLElement => h('div', {}, h('dt', {}, term), h('dd', {}, value));
