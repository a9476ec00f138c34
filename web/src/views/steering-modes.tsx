import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import { controlApi, type ControllerConfig, type ControllerState, type ControlStatus } from '../control-api.js';
import { errorsOf, Field, FormError, NO_ERRORS, Success, type FormErrors } from '../ui/form.js';
import { useLoad } from '../ui/load.js';
import { confirmDialog } from './confirm.js';
import { ShowControl, type SteeringProps } from './steering.js';

/** A number field of a controller kind: its name in the site file, label, hint, and bounds. */
interface NumField {
  readonly key: string;
  readonly label: string;
  readonly hint?: string;
  readonly required?: boolean;
  readonly min?: number;
  readonly max?: number;
  /** Strictly above min. */
  readonly positive?: boolean;
}

interface KindDef {
  readonly label: string;
  readonly what: string;
  readonly fields: readonly NumField[];
  /** Charge windows (HH:MM to HH:MM), as charge-only's `window` or charge-schedule's `entries`. */
  readonly windows?: 'one' | 'schedule';
}

/** The controllers a person switches here (src/edge/control-config.ts); others are kept as the site file has them. */
const KINDS: Record<string, KindDef> = {
  'self-consumption': {
    label: 'Self-consumption',
    what: 'Uses the battery to keep the grid near the target (0 W: neither import nor export).',
    fields: [{ key: 'targetW', label: 'Grid target (W)', hint: 'Positive = a little import, negative = a little export' }],
  },
  'peak-shaving': {
    label: 'Peak shaving',
    what: 'Discharges the battery when the site imports more than the import limit, and charges or limits PV when it exports more than the export limit.',
    fields: [
      { key: 'importLimitW', label: 'Import limit (W)', hint: 'Grid import above this is covered by the battery', min: 0 },
      { key: 'exportLimitW', label: 'Export limit (W)', hint: 'Grid export above this is absorbed or curtailed', min: 0 },
    ],
  },
  'zero-export': {
    label: 'Zero export',
    what: 'No phase exports: the battery absorbs and PV is curtailed when it cannot.',
    fields: [{ key: 'marginW', label: 'Margin (W)', hint: 'Kept as import on each phase', min: 0 }],
  },
  'charge-only': {
    label: 'Charge only',
    what: 'Charges the battery up to a target SoC at a set rate, in a window if given; never discharges.',
    fields: [
      { key: 'socTargetPct', label: 'Charge up to (% SoC)', required: true, min: 0, max: 100 },
      { key: 'rateW', label: 'Charge rate (W)', required: true, min: 0, positive: true },
    ],
    windows: 'one',
  },
  'charge-schedule': {
    label: 'Charge schedule',
    what: 'Charges (or discharges) the battery at a set power in time windows, up to a stop SoC.',
    fields: [],
    windows: 'schedule',
  },
  'backup-reserve': {
    label: 'Backup reserve',
    what: 'Keeps an SoC floor for outages: below it the battery is not discharged while the grid is up, and is recharged from the grid when a rate is set. In an outage, non-critical loads are shed in stages as the SoC falls below the floor.',
    fields: [
      { key: 'floorPct', label: 'Reserve floor (% SoC)', required: true, min: 0, max: 100 },
      {
        key: 'rechargeW',
        label: 'Grid recharge (W)',
        hint: 'Back to the floor, within the import limits; empty = no grid charging',
        min: 0,
        positive: true,
      },
    ],
  },
  generator: {
    label: 'Generator',
    what: 'During an outage, starts the generator when the battery runs low or the load exceeds the inverter, and stops it above a higher SoC (after a minimum run). At Level 1 it only recommends.',
    fields: [
      { key: 'startSocPct', label: 'Start below (% SoC)', required: true, min: 0, max: 100 },
      { key: 'stopSocPct', label: 'Stop at (% SoC)', hint: 'Higher than the start', required: true, min: 0, max: 100 },
    ],
  },
  'manual-setpoint': {
    label: 'Manual setpoint',
    what: 'Holds the battery at a fixed power.',
    fields: [{ key: 'setpointW', label: 'Battery power (W)', hint: 'Positive = discharge, negative = charge', required: true }],
  },
  passive: { label: 'Passive', what: 'Monitors only: commands nothing.', fields: [] },
};

interface Row {
  /** The controller as it was (fields this form does not edit are kept). */
  readonly base: ControllerConfig;
  readonly kind: string;
  readonly id: string;
  readonly enabled: boolean;
  readonly values: Record<string, string>;
  /** charge-only: one window; charge-schedule: entries. */
  readonly windows: Array<{ from: string; to: string; powerW: string; dir: 'charge' | 'discharge'; stopSocPct: string }>;
}

const str = (v: unknown): string => (typeof v === 'number' ? String(v) : '');

function rowOf(c: ControllerConfig): Row {
  const def = KINDS[c.kind];
  const values: Record<string, string> = {};
  for (const f of def?.fields ?? []) values[f.key] = str(c[f.key]);
  let windows: Row['windows'] = [];
  if (c.kind === 'charge-only' && typeof c['window'] === 'object' && c['window'] !== null) {
    const w = c['window'] as { from: string; to: string };
    windows = [{ from: w.from, to: w.to, powerW: '', dir: 'charge', stopSocPct: '' }];
  }
  if (c.kind === 'charge-schedule' && Array.isArray(c['entries'])) {
    windows = (c['entries'] as Array<{ window: { from: string; to: string }; powerW: number; stopSocPct?: number }>).map((e) => ({
      from: e.window.from,
      to: e.window.to,
      powerW: String(Math.abs(e.powerW)),
      dir: e.powerW > 0 ? 'discharge' : 'charge',
      stopSocPct: str(e.stopSocPct),
    }));
  }
  return { base: c, kind: c.kind, id: c.id, enabled: c.enabled !== false, values, windows };
}

function newRow(kind: string, taken: readonly string[]): Row {
  let id = kind.split('-')[0] ?? kind;
  for (let i = 2; taken.includes(id); i++) id = `${kind.split('-')[0] ?? kind}${i}`;
  const defaults: Record<string, Record<string, string>> = {
    'peak-shaving': { importLimitW: '5000', exportLimitW: '0' },
    'backup-reserve': { floorPct: '30' },
    generator: { startSocPct: '35', stopSocPct: '80' },
    'charge-only': { socTargetPct: '90', rateW: '3000' },
    'self-consumption': { targetW: '0' },
  };
  const values: Record<string, string> = {};
  for (const f of KINDS[kind]?.fields ?? []) values[f.key] = defaults[kind]?.[f.key] ?? '';
  const windows = kind === 'charge-schedule' ? [{ from: '10:00', to: '15:00', powerW: '3000', dir: 'charge' as const, stopSocPct: '95' }] : [];
  return { base: { kind, id }, kind, id, enabled: true, values, windows };
}

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

/** The rows as the API takes them, or the problems per field (`<index>.<field>`). */
function build(rows: readonly Row[], user: string): { ok: true; list: ControllerConfig[] } | { ok: false; fields: Record<string, string> } {
  const fields: Record<string, string> = {};
  const list: ControllerConfig[] = [];
  const ids = new Set<string>();
  rows.forEach((r, i) => {
    const def = KINDS[r.kind];
    if (!/^[a-z][a-z0-9_]*$/.test(r.id)) fields[`${i}.id`] = 'Lowercase letters, digits and _, starting with a letter';
    else if (ids.has(r.id)) fields[`${i}.id`] = `"${r.id}" is used twice`;
    ids.add(r.id);
    if (!def) return void list.push({ ...r.base, enabled: r.enabled });
    // The fields this form edits are set from the form only (an emptied optional one is left out).
    const edited = new Set<string>([...def.fields.map((f) => f.key), ...(def.windows === 'one' ? ['window'] : [])]);
    const out: ControllerConfig = { ...Object.fromEntries(Object.entries(r.base).filter(([k]) => !edited.has(k))), kind: r.kind, id: r.id, enabled: r.enabled };
    for (const f of def.fields) {
      const raw = (r.values[f.key] ?? '').trim();
      if (raw === '') {
        if (f.required) fields[`${i}.${f.key}`] = `${f.label.replace(/ \(.*\)$/, '')} is needed`;
        continue;
      }
      const n = Number(raw);
      if (!Number.isFinite(n)) fields[`${i}.${f.key}`] = 'A number';
      else if (f.min !== undefined && (f.positive ? n <= f.min : n < f.min)) fields[`${i}.${f.key}`] = f.positive ? 'More than 0' : `At least ${f.min}`;
      else if (f.max !== undefined && n > f.max) fields[`${i}.${f.key}`] = `At most ${f.max}`;
      else out[f.key] = n;
    }
    if (r.kind === 'manual-setpoint') out['setBy'] = typeof r.base['setBy'] === 'string' ? r.base['setBy'] : user;
    if (def.windows === 'one') {
      const w = r.windows[0];
      if (w && (w.from || w.to)) {
        if (!HHMM.test(w.from)) fields[`${i}.w0.from`] = 'HH:MM, 24 h';
        if (!HHMM.test(w.to)) fields[`${i}.w0.to`] = 'HH:MM, 24 h';
        out['window'] = { from: w.from, to: w.to };
      }
    }
    if (def.windows === 'schedule') {
      if (r.windows.length === 0) fields[`${i}.windows`] = 'Add at least one window';
      out['entries'] = r.windows.map((w, j) => {
        if (!HHMM.test(w.from)) fields[`${i}.w${j}.from`] = 'HH:MM, 24 h';
        if (!HHMM.test(w.to)) fields[`${i}.w${j}.to`] = 'HH:MM, 24 h';
        const p = Number(w.powerW);
        if (w.powerW.trim() === '' || !Number.isFinite(p) || p < 0) fields[`${i}.w${j}.powerW`] = 'A power of 0 W or more';
        const stop = w.stopSocPct.trim() === '' ? undefined : Number(w.stopSocPct);
        if (stop !== undefined && (!Number.isFinite(stop) || stop < 0 || stop > 100)) fields[`${i}.w${j}.stopSocPct`] = 'Between 0 and 100';
        return {
          window: { from: w.from, to: w.to },
          powerW: w.dir === 'charge' ? -Math.abs(p) : Math.abs(p),
          ...(stop !== undefined ? { stopSocPct: stop } : {}),
        };
      });
    }
    list.push(out);
  });
  return Object.keys(fields).length ? { ok: false, fields } : { ok: true, list };
}

/** Server refusals name `controllers.<i>.<field>` (control-runtime setMode): each goes under its field. */
function placeServer(err: unknown): FormErrors {
  const base = errorsOf(err, (f) => (f === 'reason' || f === 'body.reason' ? 'reason' : null));
  const text = base.form ?? '';
  const fields: Record<string, string> = { ...base.fields };
  const rest: string[] = [];
  for (const part of text.split('; ')) {
    const m = /^(?:control: )?controllers\.(\d+)(?:\.([A-Za-z]+))?: (.*)$/.exec(part);
    if (m) fields[`${m[1]}.${m[2] ?? 'id'}`] = m[3] ?? part;
    else if (part) rest.push(part);
  }
  return { fields, form: rest.length ? rest.join('; ') : Object.keys(fields).length ? 'The mode was not switched: see the fields marked' : null };
}

/**
 * Which controllers run, and with which settings (POST /api/control/mode): the whole list is sent,
 * with a reason, after a confirmation. Several run at once; conflicts are settled by criticality.
 */
export function ModesPage(p: SteeringProps): VNode {
  const state = useLoad(() => controlApi.status(), []);
  const [saved, setSaved] = useState<string | null>(null);
  return (
    <ShowControl state={state}>
      {(s) => (
        <>
          {saved ? <Success testId="mode-saved">{saved}</Success> : null}
          <Running s={s} />
          {p.operator ? (
            <ModeEditor
              key={s.controllers.map((c) => JSON.stringify(c.config)).join('|')}
              s={s}
              user={p.user}
              saved={(t) => {
                setSaved(t);
                state.reload();
              }}
            />
          ) : null}
        </>
      )}
    </ShowControl>
  );
}

function statusText(c: ControllerState): string {
  if (c.status.state === 'ok') return c.status.detail;
  return c.status.reason;
}

function Running({ s }: { s: ControlStatus }): VNode {
  return (
    <section class="card" aria-labelledby="running-title" data-testid="modes-running">
      <h2 id="running-title">Running now</h2>
      {s.controllers.length === 0 ? (
        <p class="hint">No controller runs: the site is not steered.</p>
      ) : (
        <ul class="ctl-list">
          {s.controllers.map((c) => (
            <li key={c.id} data-testid="running-controller" data-id={c.id} data-kind={c.kind} data-state={c.status.state}>
              <strong>{KINDS[c.kind]?.label ?? c.kind}</strong> <small>{`${c.id} · ${c.criticality}`}</small>{' '}
              <span class={`badge ${c.status.state === 'failed' ? 'badge-error' : c.status.state === 'ok' ? 'badge-good' : 'badge-off'}`}>
                {c.status.state}
              </span>
              <p class={c.status.state === 'failed' ? 'warn-text' : 'hint'}>{statusText(c)}</p>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function ModeEditor({ s, user, saved }: { s: ControlStatus; user: string; saved: (text: string) => void }): VNode {
  const [rows, setRows] = useState<Row[]>(() => s.controllers.map((c) => rowOf(c.config ?? { kind: c.kind, id: c.id })));
  const [adding, setAdding] = useState('peak-shaving');
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [busy, setBusy] = useState(false);
  const set = (i: number, r: Partial<Row>): void => setRows((rs) => rs.map((x, j) => (j === i ? { ...x, ...r } : x)));

  function submit(ev: Event): void {
    ev.preventDefault();
    const b = build(rows, user);
    const why = reason.trim();
    const fields: Record<string, string> = b.ok ? {} : { ...b.fields };
    if (!why) fields['reason'] = 'Say why the mode changes: it goes into the audit log';
    if (Object.keys(fields).length || !b.ok) {
      setErrors({ fields, form: 'Nothing was switched: see the fields marked' });
      return;
    }
    setErrors(NO_ERRORS);
    const on = b.list.filter((c) => c.enabled !== false).map((c) => KINDS[c.kind]?.label ?? c.kind);
    void confirmDialog({
      title: 'Switch the site’s mode?',
      message: `From the next cycle these run: ${on.join(', ') || 'nothing (the site is not steered)'}. Reason: ${why}`,
      confirm: 'Switch now',
    }).then((yes) => {
      if (!yes) return;
      setBusy(true);
      controlApi
        .setMode(b.list, why)
        .then((r) => {
          setReason('');
          saved(
            `Mode switched: ${
              r.controllers
                .filter((c) => c.enabled !== false)
                .map((c) => KINDS[c.kind]?.label ?? c.kind)
                .join(', ') || 'nothing runs'
            }`,
          );
        })
        .catch((err: unknown) => setErrors(placeServer(err)))
        .finally(() => setBusy(false));
    });
  }

  return (
    <form class="card form" onSubmit={submit} noValidate aria-labelledby="editor-title" data-testid="mode-editor">
      <h2 id="editor-title">Change the mode</h2>
      <p class="hint">
        Tick the controllers that should run and set their limits. Several run at once; when they disagree, safety wins over supply quality, business and
        optimisation.
      </p>
      {rows.map((r, i) => (
        <ControllerRow
          key={`${i}-${r.base.id}`}
          r={r}
          i={i}
          errors={errors.fields}
          set={(x) => set(i, x)}
          remove={() => setRows((rs) => rs.filter((_, j) => j !== i))}
        />
      ))}
      <div class="input-row add-ctl">
        <label for="add-kind" class="visually-hidden">
          Controller to add
        </label>
        <select id="add-kind" value={adding} onChange={(e) => setAdding(e.currentTarget.value)} data-testid="add-kind">
          {Object.entries(KINDS).map(([k, d]) => (
            <option key={k} value={k}>
              {d.label}
            </option>
          ))}
        </select>
        <button
          type="button"
          class="secondary small"
          data-testid="add-controller"
          onClick={() =>
            setRows((rs) => [
              ...rs,
              newRow(
                adding,
                rs.map((x) => x.id),
              ),
            ])
          }
        >
          Add
        </button>
      </div>
      <Field id="mode-reason" label="Why" error={errors.fields['reason']} hint="Kept in the audit log with your name">
        {(a) => <input {...a} value={reason} maxLength={500} autocomplete="off" onInput={(e) => setReason(e.currentTarget.value)} data-testid="mode-reason" />}
      </Field>
      <FormError text={errors.form} testId="mode-error" />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy} data-testid="mode-apply">
          Switch mode…
        </button>
      </div>
    </form>
  );
}

function ControllerRow({
  r,
  i,
  errors,
  set,
  remove,
}: {
  r: Row;
  i: number;
  errors: Readonly<Record<string, string>>;
  set: (r: Partial<Row>) => void;
  remove: () => void;
}): VNode {
  const def = KINDS[r.kind];
  const pre = `ctl-${i}`;
  const setWindow = (j: number, w: Partial<Row['windows'][number]>): void => set({ windows: r.windows.map((x, k) => (k === j ? { ...x, ...w } : x)) });
  return (
    <fieldset class="ctl" data-testid="controller-row" data-kind={r.kind} data-id={r.id}>
      <legend>
        <label class="check">
          <input type="checkbox" checked={r.enabled} onChange={(e) => set({ enabled: e.currentTarget.checked })} data-testid="controller-enabled" />
          {def?.label ?? r.kind}
        </label>
      </legend>
      <p class="hint ctl-what">{def?.what ?? 'Kept as the site file has it (edit it there).'}</p>
      <Field id={`${pre}-id`} label="Name" error={errors[`${i}.id`]}>
        {(a) => <input {...a} value={r.id} onInput={(e) => set({ id: e.currentTarget.value })} data-testid="controller-id" />}
      </Field>
      {def?.fields.map((f) => (
        <Field key={f.key} id={`${pre}-${f.key}`} label={f.label} error={errors[`${i}.${f.key}`]} {...(f.hint ? { hint: f.hint } : {})}>
          {(a) => (
            <input
              {...a}
              inputMode="decimal"
              value={r.values[f.key] ?? ''}
              placeholder={f.required ? '' : 'not set'}
              onInput={(e) => set({ values: { ...r.values, [f.key]: e.currentTarget.value } })}
              data-testid={`field-${f.key}`}
            />
          )}
        </Field>
      ))}
      {def?.windows === 'one' ? (
        <>
          <Field id={`${pre}-w0-from`} label="Window from (optional)" error={errors[`${i}.w0.from`]} hint="HH:MM, site time">
            {(a) => (
              <input
                {...a}
                type="time"
                value={r.windows[0]?.from ?? ''}
                onInput={(e) =>
                  set({ windows: [{ ...(r.windows[0] ?? { from: '', to: '', powerW: '', dir: 'charge', stopSocPct: '' }), from: e.currentTarget.value }] })
                }
              />
            )}
          </Field>
          <Field id={`${pre}-w0-to`} label="Window to" error={errors[`${i}.w0.to`]}>
            {(a) => (
              <input
                {...a}
                type="time"
                value={r.windows[0]?.to ?? ''}
                onInput={(e) =>
                  set({ windows: [{ ...(r.windows[0] ?? { from: '', to: '', powerW: '', dir: 'charge', stopSocPct: '' }), to: e.currentTarget.value }] })
                }
              />
            )}
          </Field>
        </>
      ) : null}
      {def?.windows === 'schedule' ? (
        <div class="windows" data-testid="schedule">
          {r.windows.map((w, j) => (
            <div class="window-row" key={j} data-testid="schedule-entry">
              <Field id={`${pre}-w${j}-from`} label="From" error={errors[`${i}.w${j}.from`]}>
                {(a) => <input {...a} type="time" value={w.from} onInput={(e) => setWindow(j, { from: e.currentTarget.value })} />}
              </Field>
              <Field id={`${pre}-w${j}-to`} label="To" error={errors[`${i}.w${j}.to`]}>
                {(a) => <input {...a} type="time" value={w.to} onInput={(e) => setWindow(j, { to: e.currentTarget.value })} />}
              </Field>
              <Field id={`${pre}-w${j}-dir`} label="Battery">
                {(a) => (
                  <select {...a} value={w.dir} onChange={(e) => setWindow(j, { dir: e.currentTarget.value === 'discharge' ? 'discharge' : 'charge' })}>
                    <option value="charge">charges</option>
                    <option value="discharge">discharges</option>
                  </select>
                )}
              </Field>
              <Field id={`${pre}-w${j}-powerW`} label="Power (W)" error={errors[`${i}.w${j}.powerW`]}>
                {(a) => <input {...a} inputMode="decimal" value={w.powerW} onInput={(e) => setWindow(j, { powerW: e.currentTarget.value })} />}
              </Field>
              <Field id={`${pre}-w${j}-stop`} label="Stop at (% SoC)" error={errors[`${i}.w${j}.stopSocPct`]}>
                {(a) => (
                  <input
                    {...a}
                    inputMode="decimal"
                    value={w.stopSocPct}
                    placeholder="not set"
                    onInput={(e) => setWindow(j, { stopSocPct: e.currentTarget.value })}
                  />
                )}
              </Field>
              <button type="button" class="secondary small" onClick={() => set({ windows: r.windows.filter((_, k) => k !== j) })}>
                Remove window
              </button>
            </div>
          ))}
          <p class="field-error" hidden={!errors[`${i}.windows`]}>
            {errors[`${i}.windows`] ?? ''}
          </p>
          <button
            type="button"
            class="secondary small"
            onClick={() => set({ windows: [...r.windows, { from: '22:00', to: '06:00', powerW: '2000', dir: 'charge', stopSocPct: '' }] })}
          >
            Add a window
          </button>
        </div>
      ) : null}
      <div class="actions">
        <button type="button" class="secondary small danger" onClick={remove} data-testid="controller-remove">
          Remove
        </button>
      </div>
    </fieldset>
  );
}
