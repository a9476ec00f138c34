import { ApiError } from '../api.js';
import { h } from '../dom.js';

export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.status === 0 ? 'No connection to the site controller. Retrying when the link is back.' : err.message;
  return err instanceof Error ? err.message : String(err);
}

export function errorBox(err: unknown): HTMLElement {
  return h('p', { class: 'notice notice-error', role: 'alert', 'data-testid': 'error' }, errorText(err));
}

export function loading(what = 'Loading…'): HTMLElement {
  return h('p', { class: 'loading', 'aria-busy': 'true' }, what);
}
