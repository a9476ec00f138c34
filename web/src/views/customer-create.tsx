import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import { api, ApiError } from '../api.js';
import { billingApi, type CustomerView, type Tariff } from '../billing-api.js';
import { href } from '../router.js';
import { errorsOf, Field, FormError, NO_ERRORS, Success, type FormErrors } from '../ui/form.js';
import { Show, useLoad } from '../ui/load.js';

const ID = /^[A-Za-z0-9_.-]{1,64}$/;
const PHONE = /^\+[1-9]\d{7,14}$/;
const FIELDS = ['id', 'name', 'phone', 'tariffId', 'mode', 'meter'] as const;

interface Draft {
  id: string;
  name: string;
  phone: string;
  tariffId: string;
  mode: 'prepaid' | 'postpaid';
  meter: string;
}

/**
 * An operator adds a customer: id, name, phone, tariff, prepaid or postpaid, and the meter that
 * supplies them from now (optional). `holders` names who holds each meter now, so taking a meter
 * from someone is visible before it is done. Refusals sit under the field they are about.
 */
export function CustomerCreate({ holders, created }: { holders: ReadonlyMap<string, string>; created: (v: CustomerView) => void }): VNode {
  const state = useLoad(() => Promise.all([billingApi.tariffs(), api.meters()]), []);
  return (
    <details class="card" data-testid="customer-new">
      <summary data-testid="customer-new-open">
        <h2 class="inline">Add a customer</h2>
      </summary>
      <Show state={state}>
        {([t, m]) => <Form tariffs={t.tariffs} meters={m.meters.filter((x) => x.role === 'customer').map((x) => x.key)} holders={holders} created={created} />}
      </Show>
    </details>
  );
}

function Form(p: { tariffs: Tariff[]; meters: string[]; holders: ReadonlyMap<string, string>; created: (v: CustomerView) => void }): VNode {
  const [d, setD] = useState<Draft>({ id: '', name: '', phone: '+256', tariffId: p.tariffs[0]?.id ?? '', mode: 'prepaid', meter: '' });
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<{ id: string; name: string } | null>(null);
  const set =
    (k: keyof Draft) =>
    (ev: Event): void =>
      setD({ ...d, [k]: (ev.currentTarget as HTMLInputElement).value });

  function check(): Record<string, string> {
    const e: Record<string, string> = {};
    if (!ID.test(d.id)) e['id'] = 'Letters, digits, dot, dash or underscore, up to 64 (e.g. amina-2)';
    if (!d.name.trim()) e['name'] = 'Enter the customer’s name';
    if (!PHONE.test(d.phone.replace(/\s/g, ''))) e['phone'] = 'An international number such as +256772123456';
    if (!d.tariffId) e['tariffId'] = 'Add a tariff first';
    return e;
  }

  function submit(ev: Event): void {
    ev.preventDefault();
    setDone(null);
    const e = check();
    if (Object.keys(e).length) {
      setErrors({ fields: e, form: null });
      return;
    }
    setErrors(NO_ERRORS);
    setBusy(true);
    const body = {
      id: d.id,
      name: d.name.trim(),
      phone: d.phone.replace(/\s/g, ''),
      tariffId: d.tariffId,
      mode: d.mode,
      ...(d.meter ? { meter: d.meter } : {}),
    };
    billingApi
      .createCustomer(body)
      .then((v) => {
        setDone({ id: v.customer.id, name: v.customer.name });
        setD({ ...d, id: '', name: '', phone: '+256', meter: '' });
        p.created(v);
      })
      .catch((err: unknown) => {
        if (err instanceof ApiError && !(err.body && typeof err.body === 'object' && 'issues' in err.body)) {
          // Refusals without per-field issues still belong to one field.
          const field = err.status === 409 ? 'id' : /meter/.test(err.message) ? 'meter' : /tariff/.test(err.message) ? 'tariffId' : null;
          if (field) {
            setErrors({ fields: { [field]: err.status === 409 ? `A customer ${d.id} exists already` : err.message }, form: null });
            return;
          }
        }
        setErrors(errorsOf(err, (f) => ((FIELDS as readonly string[]).includes(f) ? f : null)));
      })
      .finally(() => setBusy(false));
  }

  const err = (k: string): string | undefined => errors.fields[k];
  return (
    <form class="form" onSubmit={submit} noValidate data-testid="customer-form">
      <div class="form-row">
        <Field id="cust-id" label="Customer id" error={err('id')} hint="Short, never changes: used in references">
          {(a) => <input {...a} value={d.id} onInput={set('id')} autocomplete="off" data-testid="cust-id" />}
        </Field>
        <Field id="cust-name" label="Name" error={err('name')}>
          {(a) => <input {...a} value={d.name} onInput={set('name')} autocomplete="off" data-testid="cust-name" />}
        </Field>
        <Field id="cust-phone" label="Phone" error={err('phone')} hint="For credit SMS">
          {(a) => <input {...a} type="tel" value={d.phone} onInput={set('phone')} autocomplete="off" data-testid="cust-phone" />}
        </Field>
        <Field id="cust-tariff" label="Tariff" error={err('tariffId')}>
          {(a) => (
            <select {...a} value={d.tariffId} onChange={set('tariffId')} data-testid="cust-tariff">
              {p.tariffs.map((t) => (
                <option key={t.id} value={t.id}>{`${t.name} (${t.id})`}</option>
              ))}
            </select>
          )}
        </Field>
        <Field id="cust-mode" label="Payment" error={err('mode')}>
          {(a) => (
            <select {...a} value={d.mode} onChange={set('mode')} data-testid="cust-mode">
              <option value="prepaid">Prepaid</option>
              <option value="postpaid">Postpaid (monthly invoice)</option>
            </select>
          )}
        </Field>
        <Field
          id="cust-meter"
          label="Meter"
          error={err('meter')}
          hint={
            d.meter && p.holders.get(d.meter)
              ? `Now supplies ${p.holders.get(d.meter) ?? ''}: it moves to this customer from now`
              : 'Supplies the customer from now'
          }
        >
          {(a) => (
            <select {...a} value={d.meter} onChange={set('meter')} data-testid="cust-meter">
              <option value="">None yet</option>
              {p.meters.map((k) => (
                <option key={k} value={k}>
                  {p.holders.get(k) ? `${k} (now ${p.holders.get(k) ?? ''})` : `${k} (free)`}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <FormError text={errors.form} testId="customer-create-error" />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy} data-testid="customer-create">
          {busy ? 'Adding…' : 'Add customer'}
        </button>
      </div>
      {done ? (
        <Success testId="customer-created">
          Customer <a href={href({ page: 'customer', id: done.id })}>{done.name}</a> added
        </Success>
      ) : null}
    </form>
  );
}
