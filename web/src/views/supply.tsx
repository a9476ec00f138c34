import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import { billingApi } from '../billing-api.js';
import { dateTime } from '../format.js';
import { operatorApi, type Supply } from '../operator-api.js';
import { href } from '../router.js';
import { errorsOf, Field, FormError, NO_ERRORS, Success, type FormErrors } from '../ui/form.js';
import { Show, useLoad } from '../ui/load.js';
import { confirmDialog } from './confirm.js';

/**
 * A customer's supply and, for an operator, the manual disconnect or reconnect: both say why, are
 * confirmed first, pass the governance gate and land in the audit log. A refusal (a no-disconnect
 * window, an override hold: 409) is shown in the server's words.
 */
export function SupplyControls(p: { customer: string; operator: boolean; tz: string; changed?: () => void }): VNode {
  const [tick, setTick] = useState(0);
  const state = useLoad(() => operatorApi.supply(p.customer), [p.customer, tick]);
  return (
    <section class="card" aria-labelledby={`supply-title-${p.customer}`} data-testid="supply" data-customer={p.customer}>
      <h2 id={`supply-title-${p.customer}`}>Supply</h2>
      <Show state={state} errorTestId="supply-load-error">
        {(s) => (
          <SupplyBody
            s={s}
            operator={p.operator}
            tz={p.tz}
            done={() => {
              setTick((t) => t + 1);
              p.changed?.();
            }}
          />
        )}
      </Show>
    </section>
  );
}

function SupplyBody({ s, operator, tz, done }: { s: Supply; operator: boolean; tz: string; done: () => void }): VNode {
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [busy, setBusy] = useState(false);
  const [ok, setOk] = useState<string | null>(null);
  const action = s.disconnected ? 'reconnect' : 'disconnect';
  const reasonId = `supply-reason-${s.customer}`;

  function act(ev: Event): void {
    ev.preventDefault();
    setOk(null);
    const why = reason.trim();
    if (!why) {
      setErrors({ fields: { reason: `Say why you ${action} ${s.customer}: it goes into the audit log` }, form: null });
      return;
    }
    if (why.length > 500) {
      setErrors({ fields: { reason: 'At most 500 characters' }, form: null });
      return;
    }
    setErrors(NO_ERRORS);
    void confirmDialog({
      title: action === 'disconnect' ? `Disconnect ${s.customer}?` : `Reconnect ${s.customer}?`,
      message: `The relay of meter ${s.meter ?? '?'} is switched ${action === 'disconnect' ? 'off' : 'on'} now. Reason: ${why}`,
      confirm: action === 'disconnect' ? 'Disconnect now' : 'Reconnect now',
      danger: action === 'disconnect',
    }).then((yes) => {
      if (!yes) return;
      setBusy(true);
      (action === 'disconnect' ? operatorApi.disconnect(s.customer, why) : operatorApi.reconnect(s.customer, why))
        .then(() => {
          setReason('');
          setOk(action === 'disconnect' ? `${s.customer} disconnected` : `${s.customer} reconnected`);
          done();
        })
        .catch((err: unknown) => setErrors(errorsOf(err, (f) => (f === 'reason' || f === 'body.reason' ? 'reason' : null))))
        .finally(() => setBusy(false));
    });
  }

  return (
    <>
      <p class="supply-state">
        <span
          class={`badge ${s.disconnected ? 'badge-error' : s.meter === null ? 'badge-off' : 'badge-good'}`}
          data-testid="supply-state"
          data-state={s.disconnected ? 'off' : 'on'}
        >
          {s.meter === null ? 'No meter' : s.disconnected ? '✕ Disconnected' : '✓ Supply on'}
        </span>
        {s.meter !== null ? <a href={href({ page: 'meter', key: `meter${s.meter}` })}>{`meter${s.meter}`}</a> : null}
      </p>
      {s.pendingDisconnect ? (
        <p class="hint" data-testid="supply-pending">
          A disconnect waits for a decision since {dateTime(s.pendingDisconnect.createdAt, tz)}: {s.pendingDisconnect.reason} (
          <a href={href({ page: 'proposals' })}>queue</a>)
        </p>
      ) : null}
      {s.hold ? (
        <p
          class="hint"
          data-testid="supply-hold"
        >{`Held by ${s.hold.by} since ${dateTime(s.hold.since, tz)}${s.hold.until ? ` until ${dateTime(s.hold.until, tz)}` : ''}: ${s.hold.reason}`}</p>
      ) : null}
      {ok ? <Success testId="supply-done">{ok}</Success> : null}
      {operator && s.meter !== null && !s.hasRelay ? (
        <p class="hint">{`meter${s.meter} has no relay wired: its supply cannot be switched from here.`}</p>
      ) : null}
      {operator && s.meter !== null && s.hasRelay ? (
        <form class="form" onSubmit={act} noValidate data-testid="supply-form">
          <Field
            id={reasonId}
            label={action === 'disconnect' ? 'Why disconnect' : 'Why reconnect'}
            error={errors.fields['reason']}
            hint="Kept in the audit log with your name"
          >
            {(a) => (
              <input {...a} value={reason} onInput={(e) => setReason(e.currentTarget.value)} maxLength={500} autocomplete="off" data-testid="supply-reason" />
            )}
          </Field>
          <FormError text={errors.form} testId="supply-error" />
          <div class="actions">
            <button type="submit" class={action === 'disconnect' ? 'primary danger' : 'primary'} disabled={busy} data-testid={`supply-${action}`}>
              {action === 'disconnect' ? 'Disconnect…' : 'Reconnect…'}
            </button>
          </div>
        </form>
      ) : null}
    </>
  );
}

/** The disconnect queue's manual switch: choose a customer, then disconnect or reconnect them (operators). */
export function ManualSupply(p: { tz: string; changed: () => void }): VNode {
  const customers = useLoad(() => billingApi.customers(), []);
  const [chosen, setChosen] = useState('');
  return (
    <section class="card" aria-labelledby="manual-title" data-testid="manual-supply">
      <h2 id="manual-title">Disconnect or reconnect a customer now</h2>
      <Show state={customers}>
        {(r) => (
          <div class="field">
            <label for="manual-customer">Customer</label>
            <select id="manual-customer" value={chosen} onChange={(e) => setChosen(e.currentTarget.value)} data-testid="manual-customer">
              <option value="">Choose a customer…</option>
              {r.customers.map((c) => (
                <option key={c.id} value={c.id}>{`${c.name} (${c.id})`}</option>
              ))}
            </select>
          </div>
        )}
      </Show>
      {chosen ? <SupplyControls key={chosen} customer={chosen} operator={true} tz={p.tz} changed={p.changed} /> : null}
    </section>
  );
}
