import type { ComponentChildren, VNode } from 'preact';
import { ApiError } from '../api.js';
import { errorText } from '../views/notice.js';

/** Messages per field name ("name", "versions.0.energy.blocks.0.priceE4"), and one for the form as a whole. */
export interface FormErrors {
  readonly fields: Readonly<Record<string, string>>;
  readonly form: string | null;
}

export const NO_ERRORS: FormErrors = { fields: {}, form: null };

/**
 * A refusal of the API as messages under the fields it names. The API answers
 * `{error, issues: [{field, message}]}`; `place` maps an issue's field to the form field that
 * shows it (or null: the message goes above the submit button with the unplaced others).
 */
export function errorsOf(err: unknown, place: (field: string) => string | null = (f) => f): FormErrors {
  const issues = err instanceof ApiError && isIssues(err.body) ? err.body.issues : [];
  const fields: Record<string, string> = {};
  const rest: string[] = [];
  for (const i of issues) {
    const at = place(i.field);
    if (at === null) rest.push(`${i.field}: ${i.message}`);
    else fields[at] = fields[at] ? `${fields[at]}; ${i.message}` : i.message;
  }
  if (issues.length === 0) return { fields, form: errorText(err) };
  return { fields, form: rest.length ? rest.join('; ') : null };
}

function isIssues(body: unknown): body is { issues: Array<{ field: string; message: string }> } {
  return typeof body === 'object' && body !== null && Array.isArray((body as { issues?: unknown }).issues);
}

/** A labelled control with its hint and its own error line (the markup of views/form.ts, as a component). */
export function Field(p: {
  id: string;
  label: string;
  error?: string | undefined;
  hint?: string;
  children: (a: { id: string; 'aria-invalid'?: 'true'; 'aria-describedby': string }) => VNode;
}): VNode {
  const describedBy = [p.hint ? `${p.id}-hint` : '', `${p.id}-error`].filter(Boolean).join(' ');
  return (
    <div class="field">
      <label for={p.id}>{p.label}</label>
      {p.children({ id: p.id, 'aria-describedby': describedBy, ...(p.error ? { 'aria-invalid': 'true' as const } : {}) })}
      {p.hint ? (
        <p class="hint" id={`${p.id}-hint`}>
          {p.hint}
        </p>
      ) : null}
      <p class="field-error" id={`${p.id}-error`} data-testid={`${p.id}-error`} hidden={!p.error}>
        {p.error ?? ''}
      </p>
    </div>
  );
}

export function FormError({ text, testId }: { text: string | null; testId: string }): VNode | null {
  return text ? (
    <p class="notice notice-error" role="alert" data-testid={testId}>
      {text}
    </p>
  ) : null;
}

export function Success({ testId, children }: { testId: string; children: ComponentChildren }): VNode {
  return (
    <p class="notice notice-ok" role="status" data-testid={testId}>
      <span aria-hidden="true">✓ </span>
      {children}
    </p>
  );
}
