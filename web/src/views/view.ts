import type { Overview, Site, ValuesEvent } from '../types.js';

/** What the app shell knows and hands to each page. */
export interface Ctx {
  readonly site: Site;
}

/** A mounted page. The shell forwards live stream events and calls destroy() on leaving. */
export interface View {
  readonly el: HTMLElement;
  onValues?(e: ValuesEvent): void;
  onOverview?(o: Overview): void;
  destroy?(): void;
}
