import { api, ApiError } from '../api.js';
import { h } from '../dom.js';
import { meterConfigApi, type NewMeter } from '../meter-config-api.js';
import { fillModels, meterModels } from '../profiles-api.js';
import { href } from '../router.js';
import { field, fieldOf, select, type Field } from './form.js';
import { errorBox, successBox, working } from './notice.js';
import type { Ctx, View } from './view.js';

const NAME_PATTERN = '[a-z0-9][a-z0-9_]*';
const FIELDS = ['id', 'name', 'type', 'bus', 'role', 'ctRatio'] as const;
type FieldName = (typeof FIELDS)[number];

/**
 * Add a meter to the running site. The server applies it at once and answers only when the meter
 * has answered (about two poll cycles) or the change was rolled back, so the wait is explained.
 */
export function addMeterView(ctx: Ctx, prefill: Record<string, string>): View {
  const p = (k: string): string | undefined => prefill[k];
  const busSelect = select({ id: 'meter-bus', name: 'bus', required: true, 'data-testid': 'meter-bus' }, p('bus') ? [[p('bus') ?? '', p('bus') ?? '']] : []);
  // Models come from the controller's profiles; a scan may propose a model name or an alias.
  const typeSelect = select({ id: 'meter-type', name: 'type', required: true, 'data-testid': 'meter-type' }, []);
  const suggest = h('button', { type: 'button', class: 'secondary', 'data-testid': 'suggest-address' }, 'Suggest address');
  const f: Record<FieldName, Field> = {
    id: field(
      'Modbus address (meter id)',
      h('input', {
        id: 'meter-id',
        name: 'id',
        type: 'number',
        inputmode: 'numeric',
        min: 1,
        max: 247,
        required: true,
        value: p('id'),
        'data-testid': 'meter-id',
      }),
      'The address set on the meter: single-phase 2–99, three-phase 100–247.',
      suggest,
    ),
    name: field(
      'Name',
      h('input', {
        id: 'meter-name',
        name: 'name',
        required: true,
        pattern: NAME_PATTERN,
        autocapitalize: 'none',
        autocomplete: 'off',
        spellcheck: 'false',
        value: p('name'),
        'data-testid': 'meter-name-input',
      }),
      'Lowercase letters, digits and underscores, e.g. house_07 or floor1_reception.',
    ),
    type: field('Type', typeSelect),
    bus: field('Bus', busSelect),
    role: field(
      'Role',
      select(
        { id: 'meter-role', name: 'role', 'data-testid': 'meter-role' },
        [
          ['customer', 'Customer (sub-meter)'],
          ['main', 'Main (grid connection)'],
        ],
        p('role') ?? 'customer',
      ),
    ),
    ctRatio: field(
      'CT ratio',
      h('input', {
        id: 'meter-ct',
        name: 'ctRatio',
        type: 'number',
        inputmode: 'decimal',
        min: 0.001,
        step: 'any',
        value: p('ctRatio') ?? '1',
        'data-testid': 'meter-ct',
      }),
      '1 for a meter wired directly; e.g. 40 for a 200/5 A transformer.',
    ),
  };
  const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'add-submit' }, 'Add meter');
  const outcome = h('div', { 'aria-live': 'polite' });
  const fieldset = h('fieldset', {}, h('legend', { class: 'visually-hidden' }, 'New meter'), f.id.el, f.name.el, f.type.el, f.bus.el, f.role.el, f.ctRatio.el);
  const form = h(
    'form',
    { class: 'card form', 'data-testid': 'add-meter-form', 'aria-labelledby': 'add-title' },
    fieldset,
    h('div', { class: 'actions' }, submit),
    outcome,
  );
  const el = h(
    'div',
    { class: 'page narrow', 'data-testid': 'add-meter' },
    h('p', {}, h('a', { href: href({ page: 'meters' }) }, '← All meters')),
    h('h1', { id: 'add-title' }, 'Add a meter'),
    h(
      'p',
      { class: 'hint' },
      'The meter is polled at once; it is kept only if it answers within two poll cycles. Not sure of the address? ',
      h('a', { href: href({ page: 'discover' }) }, 'Discover meters on a bus'),
      '.',
    ),
    form,
  );

  const modelOption = (m: { types: readonly string[]; model: string; phases: number }) =>
    [m.types[0] ?? m.model, `${m.phases === 1 ? 'Single' : 'Three'}-phase (${m.model})`] as const;
  void ctx.scope.load(meterModels(), null, (models) => fillModels(typeSelect, models, modelOption, p('type')), {
    error: (err) => f.type.error(`Could not list the meter models: ${err instanceof Error ? err.message : String(err)}`),
  });
  void ctx.scope.load(
    api.buses(),
    null,
    ({ buses }) => {
      const chosen = p('bus') ?? busSelect.value;
      busSelect.replaceChildren(...buses.map((b) => h('option', { value: b.id }, `${b.id} (${b.transport})`)));
      if (buses.some((b) => b.id === chosen)) busSelect.value = chosen;
    },
    { error: (err) => f.bus.error(`Could not list the buses: ${err instanceof Error ? err.message : String(err)}`) },
  );

  suggest.addEventListener('click', () => {
    f.id.error(null);
    suggest.disabled = true;
    meterConfigApi
      .suggestAddress(busSelect.value, typeSelect.value === '3phase' ? 3 : 1)
      .then(({ address }) => {
        f.id.control.value = String(address);
        f.id.control.focus();
      })
      .catch((err: unknown) => f.id.error(err instanceof Error ? err.message : String(err)))
      .finally(() => {
        suggest.disabled = false;
      });
  });

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    for (const k of FIELDS) f[k].error(null);
    const ct = Number(f.ctRatio.control.value || '1');
    const meter: NewMeter = {
      id: Number(f.id.control.value),
      name: f.name.control.value.trim(),
      type: typeSelect.value,
      bus: busSelect.value,
      role: f.role.control.value === 'main' ? 'main' : 'customer',
      ...(ct !== 1 ? { ctRatio: ct } : {}),
    };
    meter.reason = `added ${meter.name} (address ${meter.id})`;
    const busy = (on: boolean): void => {
      fieldset.disabled = on;
      submit.disabled = on;
    };
    busy(true);
    outcome.replaceChildren(
      working(
        'add-verifying',
        `Verifying: waiting for meter ${meter.id} to answer… (up to two poll cycles, about ${Math.ceil((2 * ctx.site.pollIntervalMs) / 1000) + 1} s)`,
      ),
    );
    meterConfigApi
      .add(meter)
      .then(
        ctx.scope.live((r) => {
          busy(false);
          outcome.replaceChildren(
            successBox(
              'add-success',
              `Meter ${r.meter.id} (${r.meter.name}) answers and is now polled${r.verified ? '' : ' (not verified yet)'}. Configuration version ${r.configVersion}. `,
              h('a', { href: href({ page: 'meter', key: r.meter.key }), 'data-testid': 'added-meter-link' }, `Open ${r.meter.name}`),
            ),
          );
          f.id.control.value = '';
          f.name.control.value = '';
        }),
      )
      .catch(
        ctx.scope.live((err: unknown) => {
          busy(false);
          const msg = err instanceof Error ? err.message : String(err);
          const which = err instanceof ApiError ? fieldOf(msg, FIELDS) : null;
          const target = FIELDS.find((k) => k === which);
          if (target) f[target].error(msg);
          const title = err instanceof ApiError && err.status === 422 ? 'The meter did not answer; nothing was changed.' : 'The meter was not added.';
          outcome.replaceChildren(h('div', { 'data-testid': 'add-failed' }, h('p', { class: 'fail-title' }, title), errorBox(err, 'add-error')));
          (target ? f[target].control : submit).focus();
        }),
      );
  });

  return { el };
}
