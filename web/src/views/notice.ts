import { ApiError } from '../api.js';
import { h, type Child } from '../dom.js';

export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.status === 0 ? 'No connection to the site controller. Retrying when the link is back.' : err.message;
  return err instanceof Error ? err.message : String(err);
}

export function errorBox(err: unknown, testId = 'error'): HTMLElement {
  return h('p', { class: 'notice notice-error', role: 'alert', 'data-testid': testId }, errorText(err));
}

export function successBox(testId: string, ...children: Child[]): HTMLElement {
  return h('p', { class: 'notice notice-ok', role: 'status', 'data-testid': testId }, h('span', { 'aria-hidden': 'true' }, '✓ '), ...children);
}

export function loading(what = 'Loading…'): HTMLElement {
  return h('p', { class: 'loading', 'aria-busy': 'true' }, what);
}

/** Something slow is under way: a spinner (still when motion is reduced) and the words for what it waits on. */
export function working(testId: string, what: string): HTMLElement {
  return h(
    'p',
    { class: 'notice notice-busy', role: 'status', 'aria-busy': 'true', 'data-testid': testId },
    h('span', { class: 'spinner', 'aria-hidden': 'true' }),
    what,
  );
}

/** The page needs a role the signed-in user lacks. */
export function needsRole(role: string, what: string): HTMLElement {
  return h(
    'div',
    { class: 'page', 'data-testid': 'needs-role' },
    h('p', { class: 'notice notice-error', role: 'alert' }, `${what} needs the ${role} role. Ask an administrator if you need it.`),
  );
}
