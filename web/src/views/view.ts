import type { PageScope } from '../loader.js';
import type { Overview, Site, User, ValuesEvent } from '../types.js';

/** What the app shell knows and hands to each page. */
export interface Ctx {
  readonly site: Site;
  /** Who is signed in: pages hide the actions the role may not take. */
  readonly user: User;
  /** Tells the shell the alarm list changed (raised, acknowledged), so the nav badge recounts. */
  alarmsChanged(): void;
  /** This page's loader: its fetches, timers and listeners end when the page is left (loader.ts). */
  readonly scope: PageScope;
}

/** What the shell holds between pages; each page gets it with its own scope. */
export type ShellCtx = Omit<Ctx, 'scope'>;

/** A mounted page. The shell forwards live stream events and calls destroy() on leaving. */
export interface View {
  readonly el: HTMLElement;
  onValues?(e: ValuesEvent): void;
  onOverview?(o: Overview): void;
  /** A named stream event other than values/overview (`scan`, `alarm`), still to be parsed. */
  onEvent?(name: string, data: unknown): void;
  destroy?(): void;
}
