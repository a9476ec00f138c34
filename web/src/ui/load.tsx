import { render, type ComponentChild, type ComponentChildren, type VNode } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { PageScope } from '../loader.js';
import { errorText } from '../views/notice.js';

/** The state of one load, for a component: loading until the first answer, then data or an error (a refresh keeps the data shown). */
export interface Loaded<T> {
  readonly data: T | undefined;
  readonly error: unknown;
  readonly loading: boolean;
  /** Fetches again; the last data stays shown meanwhile. */
  reload(): void;
}

/**
 * The component side of the shared loader (loader.ts): fetches when `deps` change or reload() is
 * called; an answer arriving after a newer request or after the component unmounted is dropped.
 */
export function useLoad<T>(fetch: () => Promise<T>, deps: readonly unknown[] = []): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: null, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    fetch().then(
      (data) => current && setState({ data, error: null, loading: false }),
      (error: unknown) => current && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => {
      current = false;
    };
    // `fetch` is a new closure on every render: `deps` say when to fetch again.
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** Loading text, the error (as notice.ts words it), or `children(data)`: the three states every page shows alike. */
export function Show<T>(props: { state: Loaded<T>; errorTestId?: string; children: (data: T) => ComponentChildren }): VNode | null {
  const { data, error, loading } = props.state;
  if (error && data === undefined)
    return (
      <p class="notice notice-error" role="alert" data-testid={props.errorTestId ?? 'error'}>
        {errorText(error)}
      </p>
    );
  if (data === undefined)
    return loading ? (
      <p class="loading" aria-busy="true">
        Loading…
      </p>
    ) : null;
  return <>{props.children(data)}</>;
}

/**
 * A component inside a page still built by hand: rendered into `host` now and by each call of the
 * returned function (new props), unmounted when the page's scope ends.
 */
export function island(host: HTMLElement, vnode: ComponentChild, scope: PageScope): (next: ComponentChild) => void {
  host.replaceChildren();
  render(vnode, host);
  scope.onEnd(() => render(null, host));
  return (next) => {
    if (!scope.ended) render(next, host);
  };
}
