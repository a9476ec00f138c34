import { errorBox, loading } from './views/notice.js';

/** What a view makes of loaded data: nodes to show in place, or nothing when it updated the page itself. */
// void: a view's callback that updates the page itself simply returns nothing.
// eslint-disable-next-line @typescript-eslint/no-invalid-void-type
export type Shown = Node | readonly Node[] | void | false;

export interface LoadOptions {
  /** Shown in the target while the data is on its way (default "Loading…"); false keeps what is there (a refresh). */
  readonly loading?: string | false;
  /** A later load with the same key supersedes this one: only the newest answer is shown (filters, polling). */
  readonly key?: string;
  /** What to do with a failure instead of showing it in the target. */
  readonly error?: (err: unknown) => void;
}

/**
 * The shared loader of a mounted page: every fetch shows its loading state, its data or its error
 * in one place, and nothing arrives after the page was left (the 14 hand-kept `destroyed` flags).
 * Timers and listeners registered here end with the page too. The shell calls end() on leaving.
 */
export class PageScope {
  private readonly cleanups = new Set<() => void>();
  private readonly latest = new Map<string, number>();
  private seq = 0;
  private over = false;

  /** The page was left: late answers are dropped. */
  get ended(): boolean {
    return this.over;
  }

  /**
   * Fetches and shows: `loading` in `into` at once, then `show(data)` (its nodes replace the
   * target's children) or the error in the target. Resolves to the data, or undefined when it
   * failed, was superseded or the page was left.
   */
  async load<T>(fetch: Promise<T> | (() => Promise<T>), into: HTMLElement | null, show: (data: T) => Shown, o: LoadOptions = {}): Promise<T | undefined> {
    const mine = ++this.seq;
    if (o.key !== undefined) this.latest.set(o.key, mine);
    const current = (): boolean => !this.over && (o.key === undefined || this.latest.get(o.key) === mine);
    if (into && o.loading !== false) into.replaceChildren(loading(o.loading ?? 'Loading…'));
    try {
      const data = await (typeof fetch === 'function' ? fetch() : fetch);
      if (!current()) return undefined;
      const nodes = show(data);
      if (into && nodes) into.replaceChildren(...(nodes instanceof Node ? [nodes] : nodes));
      return data;
    } catch (err) {
      if (!current()) return undefined;
      if (o.error) o.error(err);
      else if (into) into.replaceChildren(errorBox(err));
      return undefined;
    }
  }

  /** `fn` that does nothing once the page was left (for callbacks of work the page started). */
  live<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
    return (...args) => {
      if (!this.over) fn(...args);
    };
  }

  /** Runs `fn` every `ms` while the page is shown. */
  every(ms: number, fn: () => void): void {
    const t = window.setInterval(() => !this.over && fn(), ms);
    this.onEnd(() => clearInterval(t));
  }

  /** Runs `fn` once after `ms`, unless the page was left; returns a cancel function. */
  after(ms: number, fn: () => void): () => void {
    const cancel = (): void => {
      clearTimeout(t);
      this.cleanups.delete(cancel);
    };
    const t = window.setTimeout(() => {
      cancel();
      if (!this.over) fn();
    }, ms);
    this.onEnd(cancel);
    return cancel;
  }

  /** A scope for a part of the page that is rebuilt while the page stays: it ends with the page, or on its own. */
  child(): PageScope {
    const c = new PageScope();
    this.onEnd(() => c.end());
    return c;
  }

  onEnd(fn: () => void): void {
    if (this.over) fn();
    else this.cleanups.add(fn);
  }

  end(): void {
    if (this.over) return;
    this.over = true;
    const fns = [...this.cleanups].reverse();
    this.cleanups.clear();
    for (const fn of fns) fn();
  }
}
