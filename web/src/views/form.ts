import { h, type Attrs } from '../dom.js';

/** Form building blocks: a labelled control with its hint and its own error line. */
export type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

export interface Field {
  readonly el: HTMLElement;
  readonly control: Control;
  /** Shows a message under the control and marks it invalid for screen readers; null clears it. */
  error(message: string | null): void;
}

/** `action` (a "Suggest" button, say) sits beside the control, on the same line. */
export function field(label: string, control: Control, hint?: string, action?: HTMLElement): Field {
  const id = control.id;
  const err = h('p', { class: 'field-error', id: `${id}-error`, 'data-testid': `${id}-error`, hidden: true });
  const describedBy = [hint ? `${id}-hint` : '', `${id}-error`].filter(Boolean).join(' ');
  control.setAttribute('aria-describedby', describedBy);
  const el = h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    action ? h('div', { class: 'input-row' }, control, action) : control,
    hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null,
    err,
  );
  return {
    el,
    control,
    error(message) {
      err.textContent = message ?? '';
      err.hidden = message === null;
      if (message === null) control.removeAttribute('aria-invalid');
      else control.setAttribute('aria-invalid', 'true');
    },
  };
}

export function select(attrs: Attrs, options: ReadonlyArray<readonly [string, string]>, value?: string): HTMLSelectElement {
  const el = h('select', attrs, ...options.map(([v, label]) => h('option', { value: v }, label)));
  if (value !== undefined) el.value = value;
  return el;
}

/**
 * The field a server message is about. The API names it first ("name: ...", "body.ctRatio: ...",
 * "meters.3.id: ..."), so the message can sit under the right control.
 */
export function fieldOf(message: string, names: readonly string[]): string | null {
  const m = /^(?:body\.|meters\.\d+\.)?([A-Za-z]+)\s*:/.exec(message);
  const name = m?.[1];
  return name && names.includes(name) ? name : null;
}
