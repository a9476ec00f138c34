/**
 * What the site consumes (W) under the utility's load limit (docs/csip.md "The load limit"): all the
 * power drawn inside the connection point, its loads (EV charging included) plus battery charging,
 * measured as what flows in: grid import (signed, so export subtracts) plus local production (PV
 * output and battery discharge). Signs as in docs/sign-conventions.md (import, production and
 * discharge positive). The utility-limits controller and the compliance figures use this one
 * definition, so what is enforced is what is counted. Pure.
 */
export function siteLoadW(gridW: number, pvW: readonly number[], batteryW: readonly number[]): number {
  let w = gridW;
  for (const p of pvW) w += Math.max(0, p);
  for (const b of batteryW) w += Math.max(0, b);
  return w;
}
