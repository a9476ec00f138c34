import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import { controlApi, describeCommand, type ControlProposal, type Recommendation } from '../control-api.js';
import { ago, dateTime } from '../format.js';
import { errorsOf, Field, FormError, NO_ERRORS, Success, type FormErrors } from '../ui/form.js';
import { Show, useLoad } from '../ui/load.js';
import { confirmDialog } from './confirm.js';
import { countdown, ShowControl, useNow, usePoll, type SteeringProps } from './steering.js';

const REFRESH_MS = 3000;

/**
 * Level 2: what the system proposes and waits for a person to approve (with why and the time left
 * before the proposal expires); Level 1: what it recommends people on site do by hand.
 */
export function ApprovalsPage(p: SteeringProps): VNode {
  const pending = useLoad(() => controlApi.proposals('pending'), []);
  const status = useLoad(() => controlApi.status(), []);
  const decided = useLoad(() => controlApi.proposals(), []);
  usePoll(() => pending.reload(), REFRESH_MS);
  usePoll(() => status.reload(), REFRESH_MS);
  const [done, setDone] = useState<string | null>(null);
  const changed = (text: string): void => {
    setDone(text);
    pending.reload();
    decided.reload();
    status.reload();
  };
  return (
    <ShowControl state={pending}>
      {(r) => (
        <>
          {done ? <Success testId="approval-done">{done}</Success> : null}
          <section class="card" aria-labelledby="pending-title" data-testid="approvals-pending">
            <h2 id="pending-title">
              Waiting for your decision{' '}
              <span class="count-total" data-testid="pending-count">
                ({r.proposals.length})
              </span>
            </h2>
            {r.proposals.length === 0 ? (
              <p class="hint" data-testid="pending-none">
                Nothing waits for a decision. Capabilities at Level 2 propose here; they act only once approved.
              </p>
            ) : (
              <ul class="item-list">
                {r.proposals.map((x) => (
                  <PendingItem key={x.id} x={x} operator={p.operator} tz={p.tz} changed={changed} />
                ))}
              </ul>
            )}
          </section>
          <Show state={status}>{(s) => <Recommendations recs={s.recommendations} tz={p.tz} />}</Show>
          <Show state={decided}>{(d) => <Decided list={d.proposals.filter((x) => x.state !== 'pending').slice(0, 15)} tz={p.tz} />}</Show>
        </>
      )}
    </ShowControl>
  );
}

function PendingItem({ x, operator, tz, changed }: { x: ControlProposal; operator: boolean; tz: string; changed: (text: string) => void }): VNode {
  const now = useNow();
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [busy, setBusy] = useState(false);
  const left = x.expiresAt - now;
  const what = describeCommand(x.target, x.value);

  function approve(): void {
    void confirmDialog({
      title: `Approve proposal ${x.id}?`,
      message: `${what[0]?.toUpperCase() ?? ''}${what.slice(1)}, inside the safety limits, until the approval ends. Why the system proposes it: ${x.why}`,
      confirm: 'Approve',
    }).then((yes) => {
      if (!yes) return;
      setBusy(true);
      controlApi
        .approve(x.id)
        .then(() => changed(`Approved proposal ${x.id}: ${what}`))
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
    controlApi
      .reject(x.id, why)
      .then(() => changed(`Rejected proposal ${x.id}: nothing was switched`))
      .catch((err: unknown) => setErrors(errorsOf(err, (f) => (f === 'reason' || f === 'body.reason' ? 'reason' : null))))
      .finally(() => setBusy(false));
  }

  return (
    <li class="item" data-testid="proposal" data-id={x.id} data-target={x.target}>
      <p class="item-head">
        <strong data-testid="proposal-what">{what}</strong>
        <span class="badge badge-stale" data-testid="proposal-expiry" title={`expires ${dateTime(x.expiresAt, tz)}`}>
          {left > 0 ? `expires in ${countdown(left)}` : 'expired'}
        </span>
      </p>
      <p class="item-why" data-testid="proposal-why">
        {x.why}
      </p>
      <p class="hint">{`#${x.id} · ${x.capability} on ${x.asset} · proposed ${ago(x.createdAt, now)}`}</p>
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
            <button type="button" class="primary small" disabled={busy || left <= 0} onClick={approve} data-testid="proposal-approve">
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

function Decided({ list, tz }: { list: readonly ControlProposal[]; tz: string }): VNode {
  return (
    <section class="card" aria-labelledby="decided-title" data-testid="approvals-decided">
      <h2 id="decided-title">Decided lately</h2>
      {list.length === 0 ? (
        <p class="hint">None yet.</p>
      ) : (
        <ul class="item-list compact">
          {list.map((x) => (
            <li key={x.id} data-testid="decided" data-state={x.state}>
              <span class={`badge ${x.state === 'approved' ? 'badge-good' : x.state === 'rejected' ? 'badge-error' : 'badge-off'}`}>{x.state}</span>{' '}
              {describeCommand(x.target, x.value)}
              <small class="hint">{` · ${x.decidedBy ?? 'system'} ${dateTime(x.decidedAt, tz)}${x.reason && x.state !== 'approved' ? `: ${x.reason}` : ''}`}</small>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
