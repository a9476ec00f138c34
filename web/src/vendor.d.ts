/**
 * uPlot is copied by web/build.mjs from node_modules/uplot/dist to /assets/ under content-hashed
 * names and loaded on demand as the minified IIFE build (22 kB gzipped, half the ESM build), which
 * sets `window.uPlot`. The types come straight from the uplot package.
 */
import type uPlot from 'uplot';

declare global {
  /** The hashed URLs of uPlot's script and stylesheet, set by the build (esbuild `define`). */
  const __UPLOT_JS__: string;
  const __UPLOT_CSS__: string;
  interface Window {
    uPlot?: typeof uPlot;
  }
}
