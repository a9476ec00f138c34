import { whole } from '../util/text-number.js';
import type { Proposal } from './proposal.js';
import type { Resolution } from './resolver.js';

/**
 * A controller's targets that the resolver could not give it, and what held each: a bound of another
 * source (the safety envelope's SoC window, a more critical controller). A controller sees only its own
 * inputs, so without this its status said "ok" while, say, the utility's storage target was held at
 * 0 W by the battery's minimum SoC (the decision record had it, the controller's status did not).
 */
export function heldBack(id: string, proposals: readonly Proposal[], resolutions: ReadonlyMap<string, Resolution>): string[] {
  const out: string[] = [];
  for (const p of proposals) {
    if (p.kind !== 'target' || p.source !== id) continue;
    const r = resolutions.get(p.target);
    if (!r || r.chosenBy?.source !== id || Math.abs(r.value - r.offset - p.value) < 1) continue;
    const by = r.boundBy.filter((b) => b.source !== id);
    if (by.length === 0) continue;
    out.push(`${p.target} held at ${whole(r.value - r.offset)} instead of ${whole(p.value)} by ${by.map((b) => `${b.source} (${b.why})`).join('; ')}`);
  }
  return out;
}
