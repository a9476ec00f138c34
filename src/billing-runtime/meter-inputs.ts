import type { SiteRuntime } from '../site/site-runtime.js';

/**
 * Why a system disconnect of this meter would rest on poor readings, or null. The balance that runs
 * out is computed from the meter's energy; when its readings are stale or in error, an autonomous
 * disconnect would act on numbers nobody can vouch for, so the gate escalates to a person.
 */
export function meterInputsPoor(site: Pick<SiteRuntime, 'meterList' | 'image'>, meter: number): string | null {
  const key = site.meterList().find((m) => m.id === meter)?.key;
  if (key === undefined) return `meter ${meter} is not in the site's meter list`;
  const values = Object.entries(site.image.component(key));
  if (values.length === 0) return `meter ${key} has no readings yet`;
  const bad = values.filter(([, v]) => v.quality !== 'GOOD');
  if (bad.length === 0) return null;
  return `meter ${key} readings are ${[...new Set(bad.map(([, v]) => v.quality))].join('/')} (${bad
    .slice(0, 3)
    .map(([ch]) => ch)
    .join(', ')})`;
}
