/**
 * uPlot is served from node_modules/uplot/dist at /vendor/uplot/ and loaded on demand as the
 * minified IIFE build (22 kB gzipped, half the ESM build), which sets `window.uPlot`.
 * The types come straight from the uplot package.
 */
import type uPlot from 'uplot';

declare global {
  interface Window {
    uPlot?: typeof uPlot;
  }
}
