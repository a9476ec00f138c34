import { h } from '../dom.js';
import { capitalise, dateTime } from '../format.js';
import { meterConfigApi, type ConfigVersion } from '../meter-config-api.js';
import { can } from '../roles.js';
import type { User } from '../types.js';
import { confirmDialog } from './confirm.js';
import { errorBox, loading, successBox, working } from './notice.js';
import { listTable, type Column } from './table.js';

/**
 * Every change to the meter list is a numbered version (who, when, why). Fetched only when opened:
 * most visits to the meters page never need it. An admin can go back to an earlier version.
 */
export function configHistory(user: User, tz: string): HTMLElement {
  const content = h('div', {}, loading());
  const msg = h('div', { 'aria-live': 'polite' });
  const details = h(
    'details',
    { class: 'card', 'data-testid': 'config-history' },
    h('summary', {}, h('h2', { class: 'inline' }, 'Configuration history')),
    msg,
    content,
  );
  let loaded = false;

  function load(): void {
    meterConfigApi
      .versions()
      .then(({ versions }) => content.replaceChildren(versions.length ? table(versions) : h('p', { class: 'hint' }, 'No versions recorded yet.')))
      .catch((err: unknown) => content.replaceChildren(errorBox(err)));
  }

  function table(versions: ConfigVersion[]): HTMLElement {
    const latest = Math.max(...versions.map((v) => v.version));
    const columns: Array<Column<ConfigVersion>> = [
      { label: 'Version', labelOnCard: true, cell: (v) => [String(v.version), v.version === latest ? h('small', {}, ' (in force)') : null] },
      { label: 'When', cell: (v) => dateTime(v.at, tz) },
      { label: 'By', cell: (v) => v.by },
      { label: 'Reason', cell: (v) => (v.source && v.source !== 'change' ? `${v.reason} (${v.source})` : v.reason) },
      { label: 'Meters', num: true, cell: (v) => String(typeof v.meters === 'number' ? v.meters : v.meters.length) },
    ];
    if (can(user, 'admin')) columns.push({ label: 'Restore', cell: (v) => (v.version === latest ? '—' : restoreButton(v)) });
    return listTable(
      {
        caption: 'Configuration versions, newest first',
        columns,
        testId: 'config-versions',
        rowAttrs: (v) => ({ 'data-testid': 'config-version', 'data-version': v.version }),
      },
      [...versions].sort((a, b) => b.version - a.version),
    ).el;
  }

  function restoreButton(v: ConfigVersion): HTMLElement {
    return h(
      'button',
      {
        type: 'button',
        class: 'secondary small',
        'data-testid': 'restore-version',
        'aria-label': `Restore version ${v.version}`,
        onclick: () => void restore(v),
      },
      'Restore',
    );
  }

  async function restore(v: ConfigVersion): Promise<void> {
    const ok = await confirmDialog({
      title: `Restore version ${v.version}?`,
      message: `The site goes back to the ${typeof v.meters === 'number' ? v.meters : v.meters.length} meters of version ${v.version} (${capitalise(v.reason)}, by ${v.by}). This is recorded as a new version, so it can be undone.`,
      confirm: `Restore version ${v.version}`,
    });
    if (!ok) return;
    msg.replaceChildren(working('restore-working', `Restoring version ${v.version}…`));
    try {
      await meterConfigApi.restore(v.version);
      msg.replaceChildren(successBox('restore-done', `Version ${v.version} restored.`));
      load();
    } catch (err) {
      msg.replaceChildren(errorBox(err, 'restore-error'));
    }
  }

  details.addEventListener('toggle', () => {
    if (details.open && !loaded) {
      loaded = true;
      load();
    }
  });
  return details;
}
