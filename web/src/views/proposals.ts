import { billingApi, type AuditEntry, type Proposal } from '../billing-api.js';
import { siteNow } from '../clock.js';
import { h } from '../dom.js';
import { capitalise, dateTime } from '../format.js';
import { can } from '../roles.js';
import { href } from '../router.js';
import { billingTabs } from './billing-tabs.js';
import { confirmDialog } from './confirm.js';
import { errorBox, loading, successBox } from './notice.js';
import { h as jsx } from 'preact';
import { island } from '../ui/load.js';
import { ManualSupply } from './supply.js';
import { listTable } from './table.js';
import type { Ctx, View } from './view.js';

const REFRESH_MS = 5_000;

/** The approval queue of disconnect/reconnect proposals, and the governance audit log. */
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

  function actions(p: Proposal): Array<HTMLElement | string> {
    if (!operator) return [];
    const what = `${p.capability} of ${p.asset.customer} (meter ${p.asset.meter})`;
    const approve = h(
      'button',
      { type: 'button', class: p.capability === 'disconnect' ? 'small danger' : 'small primary', 'data-testid': 'proposal-approve' },
      'Approve',
    );
    const reject = h('button', { type: 'button', class: 'small secondary', 'data-testid': 'proposal-reject' }, 'Reject');
    approve.addEventListener('click', () => {
      void confirmDialog({
        title: `Approve ${p.capability}?`,
        message: `The relay of meter ${p.asset.meter} (${p.asset.customer}) will be switched now: ${p.reason}`,
        confirm: `Approve ${p.capability}`,
        danger: p.capability === 'disconnect',
      }).then((ok) => {
        if (!ok) return;
        approve.disabled = reject.disabled = true;
        billingApi
          .approve(p.id)
          .then((r) => {
            msg.replaceChildren(
              successBox('proposal-done', `Approved ${what}: ${capitalise(r.proposal.state)}${r.proposal.why ? ` — ${r.proposal.why}` : ''}`),
            );
            refresh();
          })
          .catch((err: unknown) => {
            msg.replaceChildren(errorBox(err, 'proposal-error'));
            refresh();
          });
      });
    });
    reject.addEventListener('click', () => {
      void confirmDialog({
        title: `Reject ${p.capability}?`,
        message: `Nothing is switched; the proposal for ${p.asset.customer} is closed.`,
        confirm: 'Reject',
      }).then((ok) => {
        if (!ok) return;
        approve.disabled = reject.disabled = true;
        billingApi
          .reject(p.id, `rejected by ${ctx.user.username} in the web UI`)
          .then(() => {
            msg.replaceChildren(successBox('proposal-done', `Rejected ${what}`));
            refresh();
          })
          .catch((err: unknown) => msg.replaceChildren(errorBox(err, 'proposal-error')));
      });
    });
    return [approve, ' ', reject];
  }

  function showQueue(ps: Proposal[]): void {
    queue.replaceChildren(
      ps.length === 0
        ? h('p', { class: 'hint', 'data-testid': 'queue-empty' }, 'Nothing waits for a decision.')
        : listTable(
            {
              caption: 'Pending proposals',
              testId: 'proposal-queue',
              columns: [
                { label: 'Customer', cell: (p) => h('a', { href: href({ page: 'customer', id: p.asset.customer }) }, p.asset.customer) },
                { label: 'Action', cell: (p) => capitalise(p.capability) },
                { label: 'Meter', cell: (p) => h('a', { href: href({ page: 'meter', key: `meter${p.asset.meter}` }) }, `meter${p.asset.meter}`) },
                { label: 'Reason', cell: (p) => p.reason },
                { label: 'Proposed', cell: (p) => dateTime(p.createdAt, tz) },
                ...(operator ? [{ label: 'Decide', cell: actions }] : []),
              ],
              rowAttrs: (p) => ({ 'data-testid': 'proposal-row', 'data-id': p.id, 'data-meter': p.asset.meter }),
            },
            ps,
          ).el,
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
    void ctx.scope.load(billingApi.proposals('pending'), queue, (r) => showQueue(r.proposals), { key: 'queue', loading: false });
    void ctx.scope.load(billingApi.audit(siteNow() - 7 * 86_400_000), audit, (r) => showAudit(r.entries), { key: 'audit', loading: false });
  }
  refresh();
  // A confirmation dialog open on a row must not be pulled away: refresh only when none is open.
  ctx.scope.every(REFRESH_MS, () => !document.querySelector('dialog[open]') && refresh());
  return { el };
}
