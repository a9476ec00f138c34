import { h as jsx, type VNode } from 'preact';
import { useState } from 'preact/hooks';
import { billingApi, minorDigits, money, type Tariff, type TariffVersion } from '../billing-api.js';
import { siteNow } from '../clock.js';
import { h } from '../dom.js';
import { dateOnly } from '../format.js';
import { can } from '../roles.js';
import { errorsOf, Field, FormError, NO_ERRORS, Success, type FormErrors } from '../ui/form.js';
import { island, Show, useLoad } from '../ui/load.js';
import { billingTabs } from './billing-tabs.js';
import type { Ctx, View } from './view.js';

/** Price per kWh: priceE4 is minor units x 10^4 per kWh. */
const perKwh = (e4: number | undefined, cur: string): string => (e4 === undefined ? '—' : `${money(Math.round(e4 / 1e4), cur)}/kWh`);
const hhmm = (min: number): string => `${String(Math.floor(min / 60)).padStart(2, '0')}:${String(min % 60).padStart(2, '0')}`;

export function energyText(v: TariffVersion, cur: string): string {
  const e = v.energy;
  if (e.kind === 'flat') return `Flat ${perKwh(e.priceE4, cur)}`;
  if (e.kind === 'block')
    return (e.blocks ?? [])
      .map(
        (b, i) =>
          `${b.upToKWh === null ? `above ${e.blocks?.[i - 1]?.upToKWh ?? 0} kWh` : `${i === 0 ? 'lifeline ' : ''}up to ${b.upToKWh} kWh`} ${perKwh(b.priceE4, cur)}`,
      )
      .join('; ');
  const periods = (e.periods ?? []).map((p) => `${p.name} ${hhmm(p.fromMinute)}–${hhmm(p.toMinute)} ${perKwh(p.priceE4, cur)}`);
  return `Time of use: ${[...periods, `otherwise ${perKwh(e.otherwisePriceE4, cur)}`].join('; ')}`;
}

/** Tariffs with their versions; an admin creates a tariff or adds a version (saved versions never change). */
export function tariffsView(ctx: Ctx): View {
  const host = h('div', { class: 'stack' });
  const el = h('div', { class: 'page', 'data-testid': 'tariffs' }, h('div', { class: 'page-head' }, h('h1', {}, 'Tariffs'), billingTabs('tariffs')), host);
  island(host, jsx(TariffsPage, { admin: can(ctx.user, 'admin'), tz: ctx.site.timezone }), ctx.scope);
  return { el };
}

/**
 * The list and the forms in one component: a save reloads the list while the message of what was
 * saved stays, because it is this page's state, not part of the list that is drawn again.
 */
function TariffsPage({ admin, tz }: { admin: boolean; tz: string }): VNode {
  const state = useLoad(() => billingApi.tariffs(), []);
  const [saved, setSaved] = useState<string | null>(null);
  const onSaved = (text: string): void => {
    setSaved(text);
    state.reload();
  };
  return (
    <>
      {saved ? <Success testId="tariff-saved">{saved}</Success> : null}
      {admin ? (
        <NewTariff tz={tz} saved={onSaved} currency={state.data?.tariffs[0]?.currency ?? 'UGX'} taken={(state.data?.tariffs ?? []).map((t) => t.id)} />
      ) : null}
      <Show state={state}>
        {(r) =>
          r.tariffs.length === 0 ? (
            <p class="hint">No tariffs yet.</p>
          ) : (
            <>
              {r.tariffs.map((t) => (
                <TariffCard key={t.id} t={t} admin={admin} tz={tz} saved={onSaved} />
              ))}
            </>
          )
        }
      </Show>
    </>
  );
}

function TariffCard({ t, admin, tz, saved }: { t: Tariff; admin: boolean; tz: string; saved: (text: string) => void }): VNode {
  return (
    <section class="card" data-testid="tariff" data-id={t.id}>
      <h2>
        {t.name} <small>{`${t.id} · ${t.currency}`}</small>
      </h2>
      <ol class="timeline">
        {t.versions.map((v) => (
          <li key={v.version} data-testid="tariff-version">
            <strong>{`v${v.version} from ${v.effectiveFrom}: `}</strong>
            {energyText(v, t.currency)}
            {`; fixed ${money(v.fixedMonthlyMinor, t.currency)}/month`}
            {v.fees?.length ? `; fees ${v.fees.map((f) => `${f.name} ${money(f.amountMinor, t.currency)}/month`).join(', ')}` : ''}
            {v.taxes.length ? `; ${v.taxes.map((x) => `${x.name} ${x.rateBp / 100}% on ${x.base.join(', ')}`).join('; ')}` : ''}
          </li>
        ))}
      </ol>
      {admin ? (
        <details>
          <summary data-testid="tariff-add">Add a version</summary>
          <VersionForm prefix={`t-${t.id.replace(/[^A-Za-z0-9_-]/g, '')}`} tariff={t} tz={tz} saved={saved} />
        </details>
      ) : null}
    </section>
  );
}

function NewTariff({ tz, saved, currency, taken }: { tz: string; saved: (text: string) => void; currency: string; taken: string[] }): VNode {
  return (
    <details class="card" data-testid="tariff-new">
      <summary data-testid="tariff-new-open">
        <h2 class="inline">New tariff</h2>
      </summary>
      <VersionForm prefix="nt" tz={tz} currency={currency} taken={taken} saved={saved} />
    </details>
  );
}

interface Fee {
  name: string;
  amount: string;
}
interface Draft {
  id: string;
  name: string;
  kind: 'flat' | 'block' | 'tou';
  from: string;
  price: string;
  lifeKwh: string;
  lifePrice: string;
  peakName: string;
  peakFrom: string;
  peakTo: string;
  peakPrice: string;
  fixed: string;
  fees: Fee[];
  vat: string;
}

const major = (minor: number, cur: string): string => String(minor / 10 ** minorDigits(cur));

function draftFrom(v: TariffVersion | undefined, cur: string, today: string): Draft {
  const e = v?.energy;
  const p = (e4: number | undefined): string => (e4 === undefined ? '' : String(e4 / 1e4 / 10 ** minorDigits(cur)));
  const last = e?.blocks?.[e.blocks.length - 1];
  const peak = e?.periods?.[0];
  const vat = v?.taxes.find((x) => /vat/i.test(x.name));
  return {
    id: '',
    name: '',
    kind: e?.kind === 'block' || e?.kind === 'tou' ? e.kind : 'flat',
    from: today,
    price: p(e?.kind === 'flat' ? e.priceE4 : e?.kind === 'block' ? last?.priceE4 : e?.otherwisePriceE4),
    lifeKwh: e?.kind === 'block' && e.blocks && e.blocks.length > 1 ? String(e.blocks[0]?.upToKWh ?? '') : '',
    lifePrice: e?.kind === 'block' && e.blocks && e.blocks.length > 1 ? p(e.blocks[0]?.priceE4) : '',
    peakName: peak?.name ?? 'Evening peak',
    peakFrom: peak ? hhmm(peak.fromMinute) : '18:00',
    peakTo: peak ? hhmm(peak.toMinute) : '23:00',
    peakPrice: p(peak?.priceE4),
    fixed: v ? major(v.fixedMonthlyMinor, cur) : '0',
    fees: (v?.fees ?? []).map((f) => ({ name: f.name, amount: major(f.amountMinor, cur) })),
    vat: vat ? String(vat.rateBp / 100) : '0',
  };
}

/** Which field of the form shows a server issue about `versions.N.<path>` or a tariff field. */
function fieldOfIssue(field: string): string | null {
  const f = field.replace(/^versions\.\d+\./, '');
  if (f === 'id' || f === 'name' || f === 'effectiveFrom') return f === 'effectiveFrom' ? 'from' : f;
  if (f === 'currency') return null;
  if (/^energy\.blocks\.0\.upToKWh/.test(f)) return 'lifeKwh';
  if (/^energy\.blocks\.0\./.test(f)) return 'lifePrice';
  if (/^energy\.periods\.0\.(fromMinute)/.test(f)) return 'peakFrom';
  if (/^energy\.periods\.0\.(toMinute)/.test(f)) return 'peakTo';
  if (/^energy\.periods\.0\.name/.test(f)) return 'peakName';
  if (/^energy\.periods\./.test(f)) return 'peakPrice';
  if (/^energy/.test(f)) return 'price';
  if (f.startsWith('fixedMonthlyMinor')) return 'fixed';
  const fee = /^fees\.(\d+)/.exec(f);
  if (fee) return `fee-${fee[1]}`;
  if (f.startsWith('taxes')) return 'vat';
  return null;
}

const PRICE_FIELDS = new Set(['price', 'lifePrice', 'peakPrice']);

/** The schema speaks in 1/10,000 minor units per kWh and in minor units: say it in the form's units. */
function inUnits(e: FormErrors, cur: string): FormErrors {
  const fields: Record<string, string> = {};
  for (const [k, m] of Object.entries(e.fields)) {
    const scale = PRICE_FIELDS.has(k) ? 1e4 : k === 'fixed' || k.startsWith('fee-') ? 1 : 0;
    fields[k] = scale ? m.replace(/\b\d{4,}\b/g, (n) => `${money(Math.round(Number(n) / scale), cur)}${scale > 1 ? ' per kWh' : ''}`) : m;
  }
  return { fields, form: e.form };
}

/**
 * The fields of a tariff version (energy price: flat, a lifeline block then flat, or time of use;
 * fixed monthly charge; named monthly fees; VAT), and for a new tariff its id and name. Checks what
 * it can before sending; what the server refuses sits under the field it names.
 */
function VersionForm(p: { prefix: string; tz: string; tariff?: Tariff; currency?: string; taken?: string[]; saved: (text: string) => void }): VNode {
  const cur = p.tariff?.currency ?? p.currency ?? 'UGX';
  const latest = p.tariff?.versions[p.tariff.versions.length - 1];
  const [d, setD] = useState<Draft>(() => draftFrom(latest, cur, dateOnly(siteNow(), p.tz)));
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [busy, setBusy] = useState(false);
  const set =
    (k: keyof Draft) =>
    (ev: Event): void =>
      setD({ ...d, [k]: (ev.currentTarget as HTMLInputElement).value });
  const setFee =
    (i: number, k: keyof Fee) =>
    (ev: Event): void =>
      setD({ ...d, fees: d.fees.map((f, j) => (j === i ? { ...f, [k]: (ev.currentTarget as HTMLInputElement).value } : f)) });
  const id = (name: string): string => `${p.prefix}-${name}`;
  const err = (k: string): string | undefined => errors.fields[k];

  /** Minor units x 10^4 per kWh from what was typed, or null when it is not a price. */
  const e4 = (text: string): number | null => {
    const t = text.replace(/[,\s]/g, '');
    if (!/^\d+(\.\d+)?$/.test(t)) return null;
    const v = Math.round(Number(t) * 10 ** minorDigits(cur) * 1e4);
    return v > 0 && Number.isSafeInteger(v) ? v : null;
  };
  const minor = (text: string): number | null => {
    const t = text.replace(/[,\s]/g, '') || '0';
    if (!/^\d+(\.\d+)?$/.test(t)) return null;
    return Math.round(Number(t) * 10 ** minorDigits(cur));
  };
  const minute = (t: string): number | null => {
    const m = /^(\d\d):(\d\d)$/.exec(t);
    return m ? Number(m[1]) * 60 + Number(m[2]) : null;
  };

  function build(): { body: unknown; version: number } | Record<string, string> {
    const e: Record<string, string> = {};
    if (!p.tariff) {
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(d.id)) e['id'] = 'Letters, digits, dot, dash or underscore (e.g. home-2027)';
      else if (p.taken?.includes(d.id)) e['id'] = `A tariff ${d.id} exists already: add a version to it instead`;
      if (!d.name.trim()) e['name'] = 'Enter the name customers see';
    }
    if (!/^\d{4}-\d{2}-\d{2}$/.test(d.from)) e['from'] = 'Choose the first day the prices apply';
    else if (latest && d.from <= latest.effectiveFrom) e['from'] = `Must be after ${latest.effectiveFrom}, when v${latest.version} started`;
    const price = e4(d.price);
    if (price === null) e['price'] = 'Enter a price above zero';
    let energy: unknown = { kind: 'flat', priceE4: price };
    if (d.kind === 'block') {
      const upTo = Number(d.lifeKwh);
      const lp = e4(d.lifePrice);
      if (!(upTo > 0)) e['lifeKwh'] = 'Enter the kWh per month the lifeline block covers';
      if (lp === null) e['lifePrice'] = 'Enter the lifeline price';
      energy = {
        kind: 'block',
        blocks: [
          { upToKWh: upTo, priceE4: lp },
          { upToKWh: null, priceE4: price },
        ],
      };
    } else if (d.kind === 'tou') {
      const from = minute(d.peakFrom);
      const to = minute(d.peakTo);
      const pp = e4(d.peakPrice);
      if (!d.peakName.trim()) e['peakName'] = 'Name the period (e.g. Evening peak)';
      if (from === null) e['peakFrom'] = 'Enter a time HH:MM';
      if (to === null) e['peakTo'] = 'Enter a time HH:MM';
      else if (from === to) e['peakTo'] = 'Must differ from the start';
      if (pp === null) e['peakPrice'] = 'Enter the price in this period';
      energy = { kind: 'tou', periods: [{ name: d.peakName.trim(), fromMinute: from, toMinute: to, priceE4: pp }], otherwisePriceE4: price };
    }
    const fixed = minor(d.fixed);
    if (fixed === null) e['fixed'] = 'Enter an amount, or 0';
    const fees = d.fees.map((f, i) => {
      const a = minor(f.amount);
      if (!f.name.trim()) e[`fee-${i}`] = 'Name the fee (e.g. Meter rental)';
      else if (a === null || a <= 0) e[`fee-${i}`] = 'Enter an amount above zero';
      return { name: f.name.trim(), amountMinor: a ?? 0 };
    });
    const vat = Number(d.vat || 0);
    if (!(vat >= 0 && vat <= 100)) e['vat'] = 'A percentage from 0 to 100';
    if (Object.keys(e).length) return e;
    const version = Math.max(0, ...(p.tariff?.versions ?? []).map((v) => v.version)) + 1;
    const v = {
      version,
      effectiveFrom: d.from,
      energy,
      fixedMonthlyMinor: fixed ?? 0,
      ...(fees.length ? { fees } : {}),
      taxes: vat > 0 ? [{ name: 'VAT', rateBp: Math.round(vat * 100), base: ['energy', 'fixed', ...(fees.length ? ['fees'] : [])] }] : [],
    };
    const t = p.tariff;
    return {
      version,
      body: t
        ? { id: t.id, name: t.name, currency: t.currency, versions: [...t.versions, v] }
        : { id: d.id, name: d.name.trim(), currency: cur, versions: [v] },
    };
  }

  function submit(ev: Event): void {
    ev.preventDefault();
    const b = build();
    if (!('body' in b)) {
      setErrors({ fields: b, form: null });
      return;
    }
    setErrors(NO_ERRORS);
    setBusy(true);
    billingApi
      .saveTariff(b.body)
      .then((r) => {
        p.saved(p.tariff ? `Version ${b.version} of ${r.tariff.name} added` : `Tariff ${r.tariff.name} (${r.tariff.id}) created`);
        if (!p.tariff) setD(draftFrom(undefined, cur, d.from));
      })
      .catch((err: unknown) => setErrors(inUnits(errorsOf(err, fieldOfIssue), cur)))
      .finally(() => setBusy(false));
  }

  const F = (name: string, label: string, input: (a: Record<string, unknown>) => VNode, hint?: string): VNode => (
    <Field id={id(name)} label={label} error={err(name)} {...(hint ? { hint } : {})}>
      {(a) => input(a)}
    </Field>
  );
  const text =
    (k: keyof Draft, testId: string, extra: Record<string, unknown> = {}) =>
    (a: Record<string, unknown>): VNode => <input {...a} {...extra} value={d[k] as string} onInput={set(k)} autocomplete="off" data-testid={testId} />;
  return (
    <form class="form" onSubmit={submit} noValidate data-testid="tariff-form">
      {!p.tariff ? (
        <div class="form-row">
          {F('id', 'Tariff id', text('id', 'tariff-id'), 'Never changes; customers refer to it')}
          {F('name', 'Name', text('name', 'tariff-name'))}
        </div>
      ) : null}
      <div class="form-row">
        {F('kind', 'Energy price', (a) => (
          <select {...a} value={d.kind} onChange={set('kind')} data-testid="tariff-kind">
            <option value="flat">Flat</option>
            <option value="block">Lifeline block, then flat</option>
            <option value="tou">Time of use (a peak period)</option>
          </select>
        ))}
        {F('from', 'Effective from', text('from', 'tariff-from', { type: 'date' }))}
        {F(
          'price',
          d.kind === 'flat'
            ? `Price per kWh (${cur})`
            : d.kind === 'block'
              ? `Price above the lifeline, per kWh (${cur})`
              : `Price outside the peak, per kWh (${cur})`,
          text('price', 'tariff-price', { inputmode: 'decimal' }),
        )}
      </div>
      {d.kind === 'block' && (latest?.energy.blocks?.length ?? 0) > 2 ? (
        <p
          class="hint"
          data-testid="tariff-blocks-note"
        >{`v${latest?.version ?? ''} has ${latest?.energy.blocks?.length ?? 0} blocks; this form sets a lifeline block and one price above it, so the blocks between are not carried into the new version.`}</p>
      ) : null}
      {d.kind === 'block' ? (
        <div class="form-row">
          {F('lifeKwh', 'Lifeline block up to (kWh per month)', text('lifeKwh', 'tariff-lifeline-kwh', { inputmode: 'decimal' }))}
          {F('lifePrice', `Lifeline price per kWh (${cur})`, text('lifePrice', 'tariff-lifeline-price', { inputmode: 'decimal' }))}
        </div>
      ) : null}
      {d.kind === 'tou' ? (
        <div class="form-row">
          {F('peakName', 'Period name', text('peakName', 'tariff-peak-name'))}
          {F('peakFrom', 'From', text('peakFrom', 'tariff-peak-from', { type: 'time' }))}
          {F('peakTo', 'To', text('peakTo', 'tariff-peak-to', { type: 'time' }), 'Past midnight wraps (22:00–06:00)')}
          {F('peakPrice', `Price in the period, per kWh (${cur})`, text('peakPrice', 'tariff-peak-price', { inputmode: 'decimal' }))}
        </div>
      ) : null}
      <div class="form-row">
        {F('fixed', `Fixed monthly charge (${cur})`, text('fixed', 'tariff-fixed', { inputmode: 'decimal' }))}
        {F('vat', 'VAT (%)', text('vat', 'tariff-vat', { inputmode: 'decimal' }), 'On energy, the fixed charge and the fees')}
      </div>
      <fieldset class="fees" data-testid="tariff-fees">
        <legend class="field-legend">Monthly fees</legend>
        {d.fees.length === 0 ? <p class="hint">None. A fee is a named monthly amount (meter rental, service), prorated like the fixed charge.</p> : null}
        {d.fees.map((f, i) => (
          <div class="fee-row" key={i} data-testid="tariff-fee">
            <Field id={id(`fee-${i}-name`)} label="Fee" error={err(`fee-${i}`)}>
              {(a) => <input {...a} value={f.name} onInput={setFee(i, 'name')} autocomplete="off" data-testid="tariff-fee-name" />}
            </Field>
            <Field id={id(`fee-${i}-amount`)} label={`Per month (${cur})`}>
              {(a) => <input {...a} value={f.amount} onInput={setFee(i, 'amount')} inputmode="decimal" autocomplete="off" data-testid="tariff-fee-amount" />}
            </Field>
            <button
              type="button"
              class="secondary small"
              aria-label={`Remove fee ${i + 1}`}
              onClick={() => setD({ ...d, fees: d.fees.filter((_, j) => j !== i) })}
            >
              Remove
            </button>
          </div>
        ))}
        <div class="actions">
          <button
            type="button"
            class="secondary small"
            data-testid="tariff-fee-add"
            onClick={() => setD({ ...d, fees: [...d.fees, { name: '', amount: '' }] })}
          >
            + Add a fee
          </button>
        </div>
      </fieldset>
      <FormError text={errors.form} testId="tariff-error" />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy} data-testid="tariff-submit">
          {p.tariff ? 'Add version' : 'Create tariff'}
        </button>
      </div>
    </form>
  );
}
