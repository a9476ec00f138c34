import { approvalsApi, type ApprovalItem } from '../approvals-api.js';
import { billingApi, type AuditEntry } from '../billing-api.js';
import { siteNow } from '../clock.js';
import { h } from '../dom.js';
import { capitalise, dateTime } from '../format.js';
import { can } from '../roles.js';
import { href } from '../router.js';
import { billingTabs } from './billing-tabs.js';
import { loading } from './notice.js';
import { h as jsx } from 'preact';
import { island } from '../ui/load.js';
import { ManualSupply } from './supply.js';
import { listTable } from './table.js';
import type { Ctx, View } from './view.js';

const REFRESH_MS = 5_000;

/** Billing's side of governance: how many disconnects wait (decided in the one approvals queue), manual switching, and the audit log. */
export function proposalsView(ctx: Ctx): View {
  const tz = ctx.site.timezone;
  const queue = h('div', {}, loading());
  const msg = h('div', { 'aria-live': 'polite' });
  const audit = h('div', {}, loading());
  const operator = can(ctx.user, 'operator');
  const manual = h('div');
  const el = h(
    'div',
    { class: 'page', 'data-testid': 'proposals' },
    h('div', { class: 'page-head' }, h('h1', {}, 'Disconnects'), billingTabs('proposals')),
    msg,
    h('section', { 'aria-labelledby': 'queue-title' }, h('h2', { id: 'queue-title' }, 'Waiting for a decision'), queue),
    operator ? manual : null,
    h('section', { 'aria-labelledby': 'audit-title' }, h('h2', { id: 'audit-title' }, 'Audit log (last 7 days)'), audit),
  );
  // A manual switch lands in the audit log (and withdraws a pending disconnect): show both at once.
  if (operator) island(manual, jsx(ManualSupply, { tz, changed: () => refresh() }), ctx.scope);

  // The queue itself is the one approvals page (billing's disconnects beside the edge cycle's proposals):
  // here only how many of billing's wait, and the way there.
  function showQueue(ps: ApprovalItem[]): void {
    const supply = ps.filter((p) => p.capability === 'supply-disconnect');
    const link = h('a', { href: href({ page: 'steering-approvals' }), 'data-testid': 'approvals-link' }, 'Open the approvals queue');
    queue.replaceChildren(
      h(
        'p',
        { class: 'hint', 'data-testid': supply.length === 0 ? 'queue-empty' : 'queue-count', 'data-count': supply.length },
        supply.length === 0
          ? 'No disconnect or reconnect waits for a decision. '
          : `${supply.length} disconnect${supply.length === 1 ? '' : 's'} or reconnect${supply.length === 1 ? '' : 's'} wait${supply.length === 1 ? 's' : ''} for a decision, in the one approvals queue with the steering proposals. `,
        link,
      ),
    );
  }

  function showAudit(es: AuditEntry[]): void {
    audit.replaceChildren(
      es.length === 0
        ? h('p', { class: 'hint' }, 'No entries.')
        : listTable(
            {
              caption: 'Audit log',
              testId: 'audit',
              columns: [
                { label: 'When', cell: (e) => dateTime(e.ts, tz) },
                { label: 'Who', cell: (e) => e.actor },
                { label: 'What', cell: (e) => [capitalise(e.action), e.meter !== null ? h('small', {}, ` meter${e.meter}`) : null] },
                { label: 'Customer', cell: (e) => e.customer ?? '—' },
                { label: 'Detail', cell: (e) => e.detail },
              ],
              rowAttrs: (e) => ({ 'data-testid': 'audit-row', 'data-action': e.action }),
            },
            [...es].sort((a, b) => b.ts - a.ts || b.id - a.id).slice(0, 100),
          ).el,
    );
  }

  function refresh(): void {
    void ctx.scope.load(approvalsApi.list('pending'), queue, (r) => showQueue(r.proposals), { key: 'queue', loading: false });
    void ctx.scope.load(billingApi.audit(siteNow() - 7 * 86_400_000), audit, (r) => showAudit(r.entries), { key: 'audit', loading: false });
  }
  refresh();
  // A confirmation dialog open on a row must not be pulled away: refresh only when none is open.
  ctx.scope.every(REFRESH_MS, () => !document.querySelector('dialog[open]') && refresh());
  return { el };
}
