import { ApiError } from '../api.js';
import { h } from '../dom.js';
import { meterConfigApi, type MeterPatch } from '../meter-config-api.js';
import { href } from '../router.js';
import type { Meter } from '../types.js';
import { confirmDialog } from './confirm.js';
import { field, fieldOf } from './form.js';
import { errorBox, successBox, working } from './notice.js';

/**
 * An installer's controls on a meter's page: rename, CT ratio, disable/enable and remove.
 * Each is a new configuration version on the server; `changed` reloads the page's meter.
 */
export function meterManage(meter: Meter, pollIntervalMs: number, changed: () => void): HTMLElement {
  const name = field(
    'Name',
    h('input', {
      id: 'edit-name',
      required: true,
      pattern: '[a-z0-9][a-z0-9_]*',
      autocapitalize: 'none',
      spellcheck: 'false',
      value: meter.name,
      'data-testid': 'edit-name',
    }),
  );
  const ct = field(
    'CT ratio',
    h('input', {
      id: 'edit-ct',
      type: 'number',
      inputmode: 'decimal',
      min: 0.001,
      step: 'any',
      value: meter.ctRatio,
      placeholder: meter.ctRatio === undefined ? 'unchanged' : null,
      'data-testid': 'edit-ct',
    }),
    meter.ctRatio === undefined ? 'Leave empty to keep the current ratio.' : undefined,
  );
  const save = h('button', { type: 'submit', class: 'primary', 'data-testid': 'edit-save' }, 'Save changes');
  const toggle = h(
    'button',
    { type: 'button', class: 'secondary', 'data-testid': meter.enabled ? 'meter-disable' : 'meter-enable' },
    meter.enabled ? 'Disable polling' : 'Enable polling',
  );
  const remove = h('button', { type: 'button', class: 'secondary danger', 'data-testid': 'meter-remove' }, 'Remove meter');
  const msg = h('div', { 'aria-live': 'polite', 'data-testid': 'manage-outcome' });
  const form = h('form', { class: 'form-row', 'aria-label': 'Rename or change CT ratio' }, name.el, ct.el, h('div', { class: 'actions' }, save));
  const el = h(
    'section',
    { class: 'card', 'aria-labelledby': 'manage-title', 'data-testid': 'meter-manage' },
    h('h2', { id: 'manage-title' }, 'Configuration'),
    form,
    h('div', { class: 'actions separated' }, toggle, remove),
    h(
      'p',
      { class: 'hint' },
      meter.enabled
        ? 'A disabled meter keeps its history and configuration but is not polled.'
        : 'Enabling polls it again; it must answer within two poll cycles.',
    ),
    msg,
  );
  const buttons = [save, toggle, remove];

  function run(what: string, op: () => Promise<unknown>, done: () => void): void {
    for (const b of buttons) b.disabled = true;
    name.error(null);
    ct.error(null);
    msg.replaceChildren(working('manage-working', what));
    op()
      .then(done)
      .catch((err: unknown) => {
        const text = err instanceof Error ? err.message : String(err);
        const which = err instanceof ApiError ? fieldOf(text, ['name', 'ctRatio']) : null;
        if (which === 'name') name.error(text);
        if (which === 'ctRatio') ct.error(text);
        msg.replaceChildren(errorBox(err, 'manage-error'));
      })
      .finally(() => {
        for (const b of buttons) b.disabled = false;
      });
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const patch: MeterPatch = {};
    const newName = name.control.value.trim();
    if (newName !== meter.name) patch.name = newName;
    const newCt = ct.control.value === '' ? undefined : Number(ct.control.value);
    if (newCt !== undefined && newCt !== meter.ctRatio) patch.ctRatio = newCt;
    if (Object.keys(patch).length === 0) {
      msg.replaceChildren(h('p', { class: 'hint' }, 'Nothing changed.'));
      return;
    }
    // A changed meter is polled afresh and must answer, like a new one.
    const why = [patch.name ? `renamed ${meter.name} to ${patch.name}` : '', patch.ctRatio ? `CT ratio set to ${patch.ctRatio}` : '']
      .filter(Boolean)
      .join('; ');
    run(
      `Saving: waiting for the meter to answer with its new settings… (about ${Math.ceil((2 * pollIntervalMs) / 1000)} s)`,
      () => meterConfigApi.patch(meter.key, patch, why),
      changed,
    );
  });

  toggle.addEventListener('click', () => {
    const enabled = !meter.enabled;
    run(
      enabled ? 'Enabling: waiting for the meter to answer…' : 'Disabling…',
      () => meterConfigApi.patch(meter.key, { enabled }, `${enabled ? 'enabled' : 'disabled'} ${meter.name}`),
      changed,
    );
  });

  remove.addEventListener('click', () => {
    void confirmDialog({
      title: `Remove ${meter.name}?`,
      message: `Meter ${meter.id} (${meter.name}) will no longer be polled or listed. Its stored readings are kept, and an admin can restore the previous configuration version.`,
      confirm: 'Remove meter',
      danger: true,
    }).then((yes) => {
      if (!yes) return;
      run(
        'Removing…',
        () => meterConfigApi.remove(meter.key, `removed ${meter.name}`),
        () => {
          el.replaceChildren(successBox('meter-removed', `${meter.name} was removed. `, h('a', { href: href({ page: 'meters' }) }, 'Back to all meters')));
        },
      );
    });
  });

  return el;
}
