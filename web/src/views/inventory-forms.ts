import { ApiError } from '../api.js';
import { h } from '../dom.js';
import { inventoryApi } from '../inventory-api.js';
import { fillModels, meterModels, phaseWord } from '../profiles-api.js';
import { field, fieldOf, select, type Field } from './form.js';
import { errorBox, successBox, working } from './notice.js';

const NEW_FIELDS = ['serial', 'model', 'site', 'building', 'notes'] as const;

/** A new inventory record (a meter delivered by the supplier). */
export function newRecordForm(defaultSite: string, created: (serial: string) => void): HTMLElement {
  const f: Record<(typeof NEW_FIELDS)[number], Field> = {
    serial: field(
      'Serial number',
      h('input', { id: 'inv-serial', required: true, inputmode: 'numeric', autocomplete: 'off', 'data-testid': 'inv-serial' }),
      'The 12 digits on the meter’s label, e.g. 200322016690.',
    ),
    model: field('Model', select({ id: 'inv-model', required: true, 'data-testid': 'inv-model' }, [])),
    site: field('Site', h('input', { id: 'inv-site', required: true, value: defaultSite, 'data-testid': 'inv-site' })),
    building: field('Building / customer', h('input', { id: 'inv-building', 'data-testid': 'inv-building' }), 'e.g. Floor 1 Reception'),
    notes: field('Notes', h('textarea', { id: 'inv-notes', rows: 2, 'data-testid': 'inv-notes' })),
  };
  const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'inv-create' }, 'Add record');
  const msg = h('div', { 'aria-live': 'polite' });
  // Filling a select the page has left behind is harmless: no scope needed.
  const modelSelect = f.model.control;
  if (modelSelect instanceof HTMLSelectElement) {
    meterModels()
      .then((models) => fillModels(modelSelect, models, (m) => [m.model, `${m.model} (${phaseWord(m)})`]))
      .catch((err: unknown) => f.model.error(`Could not list the meter models: ${err instanceof Error ? err.message : String(err)}`));
  }
  const form = h(
    'form',
    { class: 'form-row', 'aria-label': 'New inventory record' },
    ...NEW_FIELDS.map((k) => f[k].el),
    h('div', { class: 'actions' }, submit),
    msg,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    for (const k of NEW_FIELDS) f[k].error(null);
    const rec = {
      serial: f.serial.control.value.trim(),
      model: f.model.control.value,
      site: f.site.control.value.trim(),
      building: f.building.control.value.trim(),
      notes: f.notes.control.value.trim(),
    };
    submit.disabled = true;
    inventoryApi
      .create(rec)
      .then(() => {
        msg.replaceChildren(successBox('inv-created', `Record ${rec.serial} added.`));
        f.serial.control.value = '';
        f.notes.control.value = '';
        created(rec.serial);
      })
      .catch((err: unknown) => {
        const which = err instanceof ApiError ? fieldOf(err.message, NEW_FIELDS) : null;
        const target = NEW_FIELDS.find((k) => k === which);
        if (target) f[target].error(err instanceof Error ? err.message : String(err));
        msg.replaceChildren(errorBox(err, 'inv-create-error'));
      })
      .finally(() => {
        submit.disabled = false;
      });
  });
  return form;
}

/** Row problems of a refused import: an `errors` list when the server gives one, else the message split into lines. */
export function importProblems(err: unknown): string[] {
  if (!(err instanceof ApiError)) return [err instanceof Error ? err.message : String(err)];
  const body = err.body;
  if (typeof body === 'object' && body !== null && 'errors' in body && Array.isArray(body.errors)) {
    return body.errors.map(rowProblem);
  }
  return err.message
    .split(/\n|;\s*(?=row\s|line\s)/i)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** One row error, `{row, line, column, message}` from the server, as "row 3, serial: ...". */
function rowProblem(e: unknown): string {
  if (typeof e === 'string') return e;
  if (typeof e !== 'object' || e === null) return String(e);
  const field = (k: string): unknown => (k in e ? (e as Record<string, unknown>)[k] : undefined);
  const row = field('row');
  const line = field('line');
  const column = field('column');
  const where = typeof row === 'number' ? `row ${row}` : typeof line === 'number' ? `line ${line}` : '';
  const message = field('message');
  const what = typeof message === 'string' ? message : JSON.stringify(e);
  return `${where}${typeof column === 'string' && column ? `, ${column}` : ''}${where ? ': ' : ''}${what}`;
}

/** Import the spreadsheet as CSV: every refused row is listed, so the sheet can be fixed in one go. */
export function importForm(imported: () => void): HTMLElement {
  const file = field(
    'CSV file',
    h('input', { id: 'inv-file', type: 'file', accept: '.csv,text/csv', required: true, 'data-testid': 'inv-file' }),
    'Columns as in the export: serial, model, site, building, status, address, notes…',
  );
  const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'inv-import' }, 'Import');
  const msg = h('div', { 'aria-live': 'polite', 'data-testid': 'inv-import-outcome' });
  const form = h('form', { class: 'form-row', 'aria-label': 'Import inventory CSV' }, file.el, h('div', { class: 'actions' }, submit), msg);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const input = file.control;
    const chosen = input instanceof HTMLInputElement ? input.files?.[0] : undefined;
    if (!chosen) return;
    submit.disabled = true;
    msg.replaceChildren(working('inv-importing', `Importing ${chosen.name}…`));
    chosen
      .text()
      .then((csv) => inventoryApi.import(csv))
      .then((r) => {
        msg.replaceChildren(successBox('inv-imported', `Imported: ${r.created} new, ${r.updated} updated.`));
        imported();
      })
      .catch((err: unknown) => {
        const problems = importProblems(err);
        msg.replaceChildren(
          h(
            'div',
            { class: 'notice notice-error', role: 'alert', 'data-testid': 'inv-import-errors' },
            h('p', {}, `The import was refused: ${problems.length} ${problems.length === 1 ? 'problem' : 'problems'}.`),
            h('ul', {}, ...problems.map((p) => h('li', {}, p))),
          ),
        );
      })
      .finally(() => {
        submit.disabled = false;
      });
  });
  return form;
}
