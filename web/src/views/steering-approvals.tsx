import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import { approvalsApi, type ApprovalItem, type Criticality, type EscalationItem } from '../approvals-api.js';
import { controlApi, describeCommand, type Recommendation } from '../control-api.js';
import { ago, dateTime } from '../format.js';
import { errorsOf, Field, FormError, NO_ERRORS, Success, type FormErrors } from '../ui/form.js';
import { Show, useLoad } from '../ui/load.js';
import { confirmDialog } from './confirm.js';
import { countdown, useNow, usePoll, type SteeringProps } from './steering.js';

const REFRESH_MS = 3000;
const CLASS_ORDER: readonly Criticality[] = ['safety', 'supply-quality', 'business', 'optimisation'];
const CLASS_BADGE: Record<Criticality, string> = {
  safety: 'badge-error',
  'supply-quality': 'badge-stale',
  business: 'badge-good',
  optimisation: 'badge-off',
};

/** What a proposal does, in words: a customer's supply for supply-disconnect, the command otherwise. */
export function describeApproval(x: Pick<ApprovalItem, 'capability' | 'customer' | 'asset' | 'target' | 'value'>): string {
  if (x.capability === 'supply-disconnect') return `${x.value >= 1 ? 'reconnect' : 'disconnect'} ${x.customer ?? 'the customer'} (${x.asset})`;
  return describeCommand(x.target, x.value);
}

/**
 * The one approvals queue (GET /api/approvals): every capability's Level 2 proposals in one list,
 * billing's disconnects and reconnects beside the edge cycle's battery, PV, generator and relay
 * commands, each with its criticality class, asset, why and the time left before it expires.
 * Below: escalated capabilities (acting as L2 until someone confirms), the Level 1 recommendations
 * for people on site, and what was decided lately (by whom, or by which rule without a person).
 */
export function ApprovalsPage(p: SteeringProps): VNode {
  const all = useLoad(() => approvalsApi.list(), []);
  const escalations = useLoad(() => approvalsApi.escalations(), []);
  // Recommendations come from the edge cycle; a site without one has none (404), which is not an error here.
  const status = useLoad(() => controlApi.status().catch(() => null), []);
  usePoll(() => all.reload(), REFRESH_MS);
  usePoll(() => escalations.reload(), REFRESH_MS);
  // A site without an edge cycle answered null once: no need to ask again every few seconds.
  usePoll(() => status.data !== null && status.reload(), REFRESH_MS);
  const [done, setDone] = useState<string | null>(null);
  const changed = (text: string): void => {
    setDone(text);
    all.reload();
    escalations.reload();
    status.reload();
  };
  return (
    <Show state={all}>
      {(r) => {
        const pending = r.proposals
          .filter((x) => x.state === 'pending')
          .sort((a, b) => CLASS_ORDER.indexOf(a.criticality) - CLASS_ORDER.indexOf(b.criticality) || (a.expiresAt ?? Infinity) - (b.expiresAt ?? Infinity));
        const decided = r.proposals.filter((x) => x.state !== 'pending').slice(0, 15);
        return (
          <>
            {done ? <Success testId="approval-done">{done}</Success> : null}
            <section class="card" aria-labelledby="pending-title" data-testid="approvals-pending">
              <h2 id="pending-title">
                Waiting for your decision{' '}
                <span class="count-total" data-testid="pending-count">
                  ({pending.length})
                </span>
              </h2>
              <p class="hint">
                Every capability at Level 2 proposes here, billing&apos;s disconnects beside the steering of the battery, PV, generator and relays; nothing runs
                until someone approves it. A higher class outranks a lower one on the same asset.
              </p>
              {pending.length === 0 ? (
                <p class="hint" data-testid="pending-none">
                  Nothing waits for a decision.
                </p>
              ) : (
                <ul class="item-list" data-testid="approval-queue">
                  {pending.map((x) => (
                    <PendingItem key={x.id} x={x} operator={p.operator} tz={p.tz} changed={changed} />
                  ))}
                </ul>
              )}
            </section>
            <Show state={escalations}>{(e) => <Escalations list={e.escalations} operator={p.operator} tz={p.tz} changed={changed} />}</Show>
            <Show state={status}>{(s) => (s ? <Recommendations recs={s.recommendations} tz={p.tz} /> : null)}</Show>
            <Decided list={decided} tz={p.tz} />
          </>
        );
      }}
    </Show>
  );
}

function PendingItem({ x, operator, tz, changed }: { x: ApprovalItem; operator: boolean; tz: string; changed: (text: string) => void }): VNode {
  const now = useNow();
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [busy, setBusy] = useState(false);
  const left = x.expiresAt === null ? Infinity : x.expiresAt - now;
  const what = describeApproval(x);
  const disconnect = x.capability === 'supply-disconnect' && x.value < 1;

  function approve(): void {
    void confirmDialog({
      title: `Approve ${x.id}?`,
      message: `${what[0]?.toUpperCase() ?? ''}${what.slice(1)}${disconnect ? ': the relay opens now and the customer loses supply' : ', inside the safety limits'}. Why the system proposes it: ${x.why}`,
      confirm: 'Approve',
      danger: disconnect,
    }).then((yes) => {
      if (!yes) return;
      setBusy(true);
      approvalsApi
        .approve(x.id)
        .then((r) => changed(`Approved ${x.id}: ${what} (${r.proposal.state})`))
        .catch((err: unknown) => setErrors(errorsOf(err)))
        .finally(() => setBusy(false));
    });
  }

  function reject(ev: Event): void {
    ev.preventDefault();
    const why = reason.trim();
    if (!why) {
      setErrors({ fields: { reason: 'Say why you reject it: it goes into the audit log' }, form: null });
      return;
    }
    setBusy(true);
    approvalsApi
      .reject(x.id, why)
      .then(() => changed(`Rejected ${x.id}: nothing was switched`))
      .catch((err: unknown) => setErrors(errorsOf(err, (f) => (f === 'reason' || f === 'body.reason' ? 'reason' : null))))
      .finally(() => setBusy(false));
  }

  return (
    <li
      class="item"
      data-testid="proposal"
      data-id={x.id}
      data-source={x.source}
      data-source-id={x.sourceId}
      data-capability={x.capability}
      data-class={x.criticality}
      data-target={x.target}
    >
      <p class="item-head">
        <strong data-testid="proposal-what">{what}</strong>
        <span
          class={`badge ${CLASS_BADGE[x.criticality]}`}
          data-testid="proposal-class"
          title="criticality class: safety > supply quality > business > optimisation"
        >
          {x.criticality}
        </span>
        <span class="badge badge-stale" data-testid="proposal-expiry" title={x.expiresAt === null ? 'no expiry' : `expires ${dateTime(x.expiresAt, tz)}`}>
          {x.expiresAt === null ? 'no expiry' : left > 0 ? `expires in ${countdown(left)}` : 'expired'}
        </span>
      </p>
      <p class="item-why" data-testid="proposal-why">
        {x.why}
      </p>
      <p
        class="hint"
        data-testid="proposal-meta"
      >{`${x.id} · ${x.capability} on ${x.asset}${x.customer ? ` (customer ${x.customer})` : ''} · proposed ${ago(x.createdAt, now)}`}</p>
      <FormError text={errors.form} testId="proposal-error" />
      {operator ? (
        rejecting ? (
          <form class="form" onSubmit={reject} noValidate>
            <Field id={`reject-${x.id}`} label="Why reject" error={errors.fields['reason']}>
              {(a) => <input {...a} value={reason} maxLength={500} onInput={(e) => setReason(e.currentTarget.value)} data-testid="reject-reason" />}
            </Field>
            <div class="actions">
              <button type="submit" class="primary danger small" disabled={busy} data-testid="reject-confirm">
                Reject
              </button>
              <button type="button" class="secondary small" onClick={() => setRejecting(false)}>
                Cancel
              </button>
            </div>
          </form>
        ) : (
          <div class="actions">
            <button
              type="button"
              class={disconnect ? 'small danger' : 'primary small'}
              disabled={busy || left <= 0}
              onClick={approve}
              data-testid="proposal-approve"
            >
              Approve…
            </button>
            <button type="button" class="secondary small" disabled={busy} onClick={() => setRejecting(true)} data-testid="proposal-reject">
              Reject…
            </button>
          </div>
        )
      ) : null}
    </li>
  );
}

function Escalations({
  list,
  operator,
  tz,
  changed,
}: {
  list: readonly EscalationItem[];
  operator: boolean;
  tz: string;
  changed: (text: string) => void;
}): VNode | null {
  const [error, setError] = useState<string | null>(null);
  if (list.length === 0) return null;
  function confirm(e: EscalationItem): void {
    void confirmDialog({
      title: `Hand ${e.capability} back to Level 3?`,
      message: `It escalated ${dateTime(e.sinceMs, tz)}: ${e.why}. Confirm only once the cause is dealt with; it then acts on its own again.`,
      confirm: 'Confirm',
    }).then((yes) => {
      if (!yes) return;
      approvalsApi
        .confirm(e.capability, e.asset)
        .then(() => changed(`${e.capability} on ${e.asset} is back to Level 3`))
        .catch((err: unknown) => setError(errorsOf(err).form));
    });
  }
  return (
    <section class="card" aria-labelledby="esc-title" data-testid="approvals-escalations">
      <h2 id="esc-title">Escalated: acting as Level 2 until someone confirms</h2>
      <FormError text={error} testId="escalation-error" />
      <ul class="item-list">
        {list.map((e) => (
          <li key={`${e.capability}:${e.asset}`} class="item" data-testid="approvals-escalation" data-capability={e.capability} data-asset={e.asset}>
            <p class="item-head">
              <strong>{`${e.capability} on ${e.asset}`}</strong>
            </p>
            <p class="item-why">{e.why}</p>
            <p class="hint">{`since ${dateTime(e.sinceMs, tz)}`}</p>
            {operator ? (
              <div class="actions">
                <button type="button" class="secondary small" onClick={() => confirm(e)} data-testid="approvals-escalation-confirm">
                  Confirm…
                </button>
              </div>
            ) : null}
          </li>
        ))}
      </ul>
    </section>
  );
}

function Recommendations({ recs, tz }: { recs: readonly Recommendation[]; tz: string }): VNode {
  const now = useNow();
  return (
    <section class="card" aria-labelledby="recs-title" data-testid="recommendations">
      <h2 id="recs-title">Recommended action for people on site</h2>
      <p class="hint">Level 1: the system never acts on these itself. Someone on site does it by hand, or not.</p>
      {recs.length === 0 ? (
        <p class="hint" data-testid="recs-none">
          No recommendation now.
        </p>
      ) : (
        <ul class="item-list">
          {recs.map((r) => (
            <li key={r.target} class="item" data-testid="recommendation" data-target={r.target}>
              <p class="item-head">
                <strong>{describeCommand(r.target, r.value)}</strong>
              </p>
              <p class="item-why">{r.why}</p>
              <p class="hint">{`${r.capability} on ${r.asset} · recommended since ${dateTime(r.since, tz)} (${ago(r.since, now)})`}</p>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

const STATE_BADGE: Record<string, string> = { approved: 'badge-good', executed: 'badge-good', rejected: 'badge-error', failed: 'badge-error' };

function Decided({ list, tz }: { list: readonly ApprovalItem[]; tz: string }): VNode {
  return (
    <section class="card" aria-labelledby="decided-title" data-testid="approvals-decided">
      <h2 id="decided-title">Decided lately</h2>
      {list.length === 0 ? (
        <p class="hint">None yet.</p>
      ) : (
        <ul class="item-list compact">
          {list.map((x) => (
            <li key={x.id} data-testid="decided" data-id={x.id} data-state={x.state} data-by={x.decidedBy ?? ''}>
              <span class={`badge ${STATE_BADGE[x.state] ?? 'badge-off'}`}>{x.state}</span> {describeApproval(x)}
              <small class="hint">{` · ${x.decidedBy === 'policy' ? 'ran without a person, by rule' : (x.decidedBy ?? 'system')} ${dateTime(x.decidedAt, tz)}: ${x.why}`}</small>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
