import { h } from './dom.js';
import type { Quality } from './types.js';

export type BadgeKind = Quality | 'OFF' | 'NONE';

const LABEL: Record<BadgeKind, string> = { GOOD: 'GOOD', STALE: 'STALE', ERROR: 'ERROR', OFF: 'DISABLED', NONE: 'NO DATA' };
// An icon as well as colour and text: the state must not depend on telling colours apart.
const ICON: Record<BadgeKind, string> = { GOOD: '✓', STALE: '⏱', ERROR: '✕', OFF: '–', NONE: '?' };

export function badgeKind(quality: Quality | null, enabled = true): BadgeKind {
  if (!enabled) return 'OFF';
  return quality ?? 'NONE';
}

export function badge(kind: BadgeKind): HTMLSpanElement {
  const el = h('span', { 'data-testid': 'quality' });
  setBadge(el, kind);
  return el;
}

export function setBadge(el: HTMLElement, kind: BadgeKind): void {
  if (el.dataset['quality'] === kind) return;
  el.dataset['quality'] = kind;
  el.className = `badge badge-${kind.toLowerCase()}`;
  el.replaceChildren(h('span', { 'aria-hidden': 'true' }, ICON[kind]), ` ${LABEL[kind]}`);
}
