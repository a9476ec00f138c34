import type { SiteModel } from './site-model.js';

export interface BackfillReading {
  readonly meter: string;
  readonly ts: number;
  readonly values: Record<string, number>;
}

/**
 * Runs the model from its start to `untilMs` and hands over what every meter showed each `stepMs`,
 * limited to the channels its driver reads. The demo uses it so a first start already has history;
 * the counters continue seamlessly into live polling because it is the same model.
 */
export function backfill(
  model: SiteModel,
  untilMs: number,
  stepMs: number,
  channelsOf: (meterId: number) => readonly string[],
  add: (r: BackfillReading) => void,
): number {
  const meters = model.meters().map((m) => ({ id: m.id, key: `meter${m.id}`, channels: channelsOf(m.id) }));
  let count = 0;
  for (let t = model.timeMs; t < untilMs; t += stepMs) {
    model.advanceTo(t);
    for (const m of meters) {
      const all = model.meterValues(m.id);
      if (!all) continue;
      const values: Record<string, number> = {};
      for (const c of m.channels) {
        const v = all[c];
        if (v !== undefined) values[c] = v;
      }
      add({ meter: m.key, ts: t, values });
      count++;
    }
  }
  return count;
}
