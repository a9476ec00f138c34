import { h as jsx, type ComponentType, type VNode } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api.js';
import { siteNow } from '../clock.js';
import { h } from '../dom.js';
import { can } from '../roles.js';
import { island, type Loaded } from '../ui/load.js';
import { errorText } from './notice.js';
import type { Ctx, View } from './view.js';

const TABS = [
  ['steering', 'Energy flow', '#/steering'],
  ['steering-modes', 'Modes', '#/steering/modes'],
  ['steering-approvals', 'Approvals', '#/steering/approvals'],
  ['steering-overrides', 'Overrides', '#/steering/overrides'],
  ['steering-health', 'Cycle health', '#/steering/health'],
  ['steering-audit', 'Audit log', '#/steering/audit'],
] as const;
export type SteeringTab = (typeof TABS)[number][0];

/** What every steering component is handed: the site's time zone and whether the user may act (operator). */
export interface SteeringProps {
  readonly tz: string;
  readonly operator: boolean;
  readonly user: string;
}

/**
 * A page of the Steering section: its heading, the section's tabs, and the Preact component that
 * draws it (mounted as an island, unmounted with the page's scope).
 */
export function steeringPage(ctx: Ctx, tab: SteeringTab, title: string, component: ComponentType<SteeringProps>): View {
  const host = h('div', { class: 'stack' });
  const el = h(
    'div',
    { class: 'page steering', 'data-testid': tab },
    h('div', { class: 'page-head' }, h('h1', {}, title)),
    h(
      'nav',
      { class: 'chips', 'aria-label': 'Steering', 'data-testid': 'steering-tabs' },
      ...TABS.map(([id, label, target]) =>
        h('a', { href: target, class: 'chip', 'aria-current': id === tab ? 'page' : null, 'data-testid': `steering-tab-${id}` }, label),
      ),
    ),
    host,
  );
  island(host, jsx(component, { tz: ctx.site.timezone, operator: can(ctx.user, 'operator'), user: ctx.user.username }), ctx.scope);
  return { el };
}

/** Calls `reload` every `ms` while the component is mounted (live pages poll; the stream carries meters only). */
export function usePoll(reload: () => void, ms: number): void {
  const latest = useRef(reload);
  latest.current = reload;
  useEffect(() => {
    const t = window.setInterval(() => latest.current(), ms);
    return () => clearInterval(t);
  }, [ms]);
}

/** The site's clock, re-read every second: countdowns and ages move without a fetch. */
export function useNow(): number {
  const [now, setNow] = useState(siteNow());
  useEffect(() => {
    const t = window.setInterval(() => setNow(siteNow()), 1000);
    return () => clearInterval(t);
  }, []);
  return now;
}

/** "4:05" left (m:ss), or "1 h 02 min" for long ones. */
export function countdown(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** A site without a control section has no steering routes (404 "no route"): say so instead of an error. */
export function noControl(err: unknown): boolean {
  return err instanceof ApiError && err.status === 404;
}

/** The load's three states, with "steering is off" for a site without a control section. */
export function ShowControl<T>(p: { state: Loaded<T>; children: (data: T) => VNode }): VNode | null {
  const { data, error, loading } = p.state;
  if (error && data === undefined) {
    if (noControl(error))
      return (
        <p class="notice" data-testid="no-control">
          This site has no <code>control:</code> section in its site file: nothing is steered here.
        </p>
      );
    return (
      <p class="notice notice-error" role="alert" data-testid="error">
        {errorText(error)}
      </p>
    );
  }
  if (data === undefined)
    return loading ? (
      <p class="loading" aria-busy="true">
        Loading…
      </p>
    ) : null;
  return (
    <>
      {error ? <p class="notice notice-error" role="alert" data-testid="refresh-error">{`Not refreshed: ${errorText(error)}`}</p> : null}
      {p.children(data)}
    </>
  );
}

/** W as kW with a fixed number of digits, without sign (the words carry the direction). */
export const kWabs = (w: number): string => (Math.abs(w) / 1000).toFixed(2);
