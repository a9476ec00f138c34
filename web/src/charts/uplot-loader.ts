import type uPlot from 'uplot';

let pending: Promise<typeof uPlot> | null = null;

/**
 * The chart library if its script has run. uplot's UMD declaration types the global as always there;
 * it is there only once loadUPlot() has loaded it.
 */
export function loadedUPlot(): typeof uPlot | undefined {
  return (window as { uPlot?: typeof uPlot }).uPlot;
}

/** Fetches the chart library only when a page first draws a chart: the overview and table never pay for it. */
export function loadUPlot(): Promise<typeof uPlot> {
  const loaded = loadedUPlot();
  if (loaded) return Promise.resolve(loaded);
  pending ??= new Promise<typeof uPlot>((resolve, reject) => {
    if (!document.querySelector(`link[href="${__UPLOT_CSS__}"]`)) {
      document.head.append(Object.assign(document.createElement('link'), { rel: 'stylesheet', href: __UPLOT_CSS__ }));
    }
    const script = Object.assign(document.createElement('script'), { src: __UPLOT_JS__, async: true });
    script.onload = () => {
      const U = loadedUPlot();
      if (U) resolve(U);
      else reject(new Error('The chart library did not load'));
    };
    script.onerror = () => {
      // Let the next chart try again: on a weak link one failed fetch should not disable charts for good.
      pending = null;
      script.remove();
      reject(new Error('Could not load the chart library; check the connection and reload'));
    };
    document.head.append(script);
  });
  return pending;
}
