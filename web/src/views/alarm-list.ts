import type { Alarm } from '../alarms-api.js';
import { h } from '../dom.js';
import { capitalise, dateTime } from '../format.js';
import { href } from '../router.js';

// An icon and the word as well as the colour: severity must not depend on telling colours apart.
const SEVERITY_ICON: Record<string, string> = { critical: '‼', major: '!', warning: '⚠', minor: '•', info: 'ℹ' };

export function severityBadge(severity: string): HTMLElement {
  const s = severity.toLowerCase();
  return h(
    'span',
    { class: `sev sev-${SEVERITY_ICON[s] ? s : 'info'}`, 'data-testid': 'severity' },
    h('span', { 'aria-hidden': 'true' }, `${SEVERITY_ICON[s] ?? 'ℹ'} `),
    s.toUpperCase(),
  );
}

/** "Open, not acknowledged" / "Open, acknowledged by ann" / "Cleared 2026-04-03 14:05". */
export function alarmStateText(a: Alarm, tz: string): string {
  const ack = a.acknowledged ? `acknowledged by ${a.acknowledged.by}` : 'not acknowledged';
  return a.state === 'open' ? `Open, ${ack}` : `Cleared ${dateTime(a.clearedAt, tz)}${a.acknowledged ? `, ${ack}` : ''}`;
}

/** A meter (meter12) or its channel (meter12/Voltage_L1) links to the meter's page; a bus or the site is plain text. */
export function subjectOf(subject: string): HTMLElement | string {
  const key = /^(meter\d{1,3})(?:\/|$)/.exec(subject)?.[1];
  return key ? h('a', { href: href({ page: 'meter', key }) }, subject) : subject;
}

/** Alarms as cards: severity, what happened, to what, since when, and whether anyone has taken it on. */
export function alarmList(alarms: readonly Alarm[], tz: string, empty: string): HTMLElement {
  if (alarms.length === 0) return h('p', { class: 'hint', 'data-testid': 'alarms-empty' }, empty);
  return h('ul', { class: 'alarm-list', 'data-testid': 'alarm-list' }, ...alarms.map((a) => alarmItem(a, tz)));
}

function alarmItem(a: Alarm, tz: string): HTMLElement {
  const id = String(a.id);
  const attention = a.state === 'open' && !a.acknowledged;
  return h(
    'li',
    {
      class: `alarm alarm-${a.state}${attention ? ' attention' : ''}`,
      'data-testid': 'alarm-item',
      'data-id': id,
      'data-rule': a.rule,
      'data-subject': a.subject,
      'data-state': a.state,
    },
    h(
      'div',
      { class: 'alarm-head' },
      severityBadge(a.severity),
      h(
        'a',
        { href: href({ page: 'alarm', id }), class: 'alarm-title', 'data-testid': 'alarm-link' },
        `${capitalise(a.rule.replace(/[_-]/g, ' '))}: `,
        a.subject,
      ),
    ),
    h('p', { class: 'alarm-message' }, a.message),
    h(
      'p',
      { class: 'hint' },
      `Raised ${dateTime(a.raisedAt, tz)} · `,
      h('span', { class: attention ? 'needs-ack' : null, 'data-testid': 'alarm-state' }, alarmStateText(a, tz)),
    ),
  );
}
