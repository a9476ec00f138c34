import { CRITICALITY, type Bound, type Criticality, type Offset, type Proposal, type Target } from './proposal.js';
import { whole } from '../util/text-number.js';

/**
 * The resolver (docs/architecture.md "Controllers propose, the resolver decides"; docs/ems-modes.md#criticality).
 *
 * For each decision variable, classes are applied from safety down to optimisation. Each class first
 * narrows the feasible interval with its bounds, then, if it has targets, picks a value inside the
 * interval and pins it: the classes below can no longer move it. Without any target the variable
 * takes its neutral value (battery idle, PV uncurtailed, relay as it is) clamped into the interval.
 *
 * Order independence: every step is a set operation (intersection; choice by a total order on
 * values, then source names), so shuffling the proposals or the controllers gives the same result.
 * - A bound that does not overlap what a more critical class allows is cut to the nearest allowed
 *   value (the more critical class wins) and recorded as overruled.
 * - Two bounds of one class that contradict each other collapse to the value between them nearest
 *   the neutral value (the least intervention), and both are recorded.
 * - Several targets of one class: the one nearest the neutral value wins (least aggressive); the
 *   others are recorded as overruled.
 * - Offsets (frequency droop) are added to the value so chosen, from the least critical class up: each
 *   class's sum of offsets moves the value, then it is clamped into what that class and the more critical
 *   ones allow (the interval after that class's bounds), so the safety envelope always has the last word
 *   and a business bound does not cancel a supply-quality response. Offsets of a class below the one whose
 *   target pinned the value are overruled like its bounds.
 */
export interface VariableSpec {
  /** What the asset does when nobody asks (battery 0 W, PV at its rating, a relay's current state). */
  readonly neutral: number;
}

export interface Interval {
  readonly min: number;
  readonly max: number;
}

/** Who decided the value and which constraint bound it. */
export interface Binding {
  readonly source: string;
  readonly criticality: Criticality;
  readonly why: string;
}

export interface Resolution {
  readonly target: string;
  readonly value: number;
  /** The feasible interval left when the value was chosen. */
  readonly interval: Interval;
  /** The target that chose the value, or null when the neutral value was taken. */
  readonly chosenBy: Binding | null;
  /** The bound(s) that the value sits on, when a constraint limited it; empty when it is free. */
  readonly boundBy: readonly Binding[];
  /** Proposals that did not get their way, and why. */
  readonly overruled: readonly (Binding & { readonly by: string })[];
  /** What the offsets added to the chosen (or neutral) value, after clamping (W); 0 without offsets. */
  readonly offset: number;
}

const binding = (p: Proposal): Binding => ({ source: p.source, criticality: p.criticality, why: p.why });
const clamp = (x: number, i: Interval): number => Math.min(i.max, Math.max(i.min, x));
/** A total order on proposals that does not depend on their position in the input. */
const canonical = (a: Proposal, b: Proposal): number => (a.source < b.source ? -1 : a.source > b.source ? 1 : a.why < b.why ? -1 : a.why > b.why ? 1 : 0);

interface Edge {
  readonly value: number;
  readonly by: readonly Binding[];
}

export function resolveVariable(target: string, proposals: readonly Proposal[], spec: VariableSpec = { neutral: 0 }): Resolution {
  let lo: Edge = { value: -Infinity, by: [] };
  let hi: Edge = { value: Infinity, by: [] };
  const overruled: (Binding & { by: string })[] = [];
  let chosen: { value: number; by: Binding } | null = null;
  /** The interval left after each class's bounds (what an offset of that class must stay within). */
  const after = new Map<Criticality, { lo: Edge; hi: Edge }>();

  for (const cls of CRITICALITY) {
    const mine = proposals.filter((p) => p.criticality === cls).sort(canonical);
    const bounds = mine.filter((p): p is Bound => p.kind === 'bound');
    const targets = mine.filter((p): p is Target => p.kind === 'target');
    if (chosen) {
      for (const p of mine)
        if (p.kind !== 'offset') overruled.push({ ...binding(p), by: `value already fixed by ${chosen.by.source} (${chosen.by.criticality})` });
      continue;
    }
    // This class's own intersection first.
    let cLo: Edge = { value: -Infinity, by: [] };
    let cHi: Edge = { value: Infinity, by: [] };
    for (const b of bounds) {
      if (b.min !== undefined && Number.isFinite(b.min))
        cLo = b.min > cLo.value ? { value: b.min, by: [binding(b)] } : b.min === cLo.value ? { value: cLo.value, by: [...cLo.by, binding(b)] } : cLo;
      if (b.max !== undefined && Number.isFinite(b.max))
        cHi = b.max < cHi.value ? { value: b.max, by: [binding(b)] } : b.max === cHi.value ? { value: cHi.value, by: [...cHi.by, binding(b)] } : cHi;
    }
    if (cLo.value > cHi.value) {
      // Contradiction inside one class: the least intervention between the two, clamped to what is allowed.
      const point = Math.min(cLo.value, Math.max(cHi.value, spec.neutral));
      for (const b of [...cLo.by, ...cHi.by]) overruled.push({ ...b, by: `contradicts another ${cls} bound; collapsed to ${whole(point)}` });
      const by = [...cLo.by, ...cHi.by];
      cLo = { value: point, by };
      cHi = { value: point, by };
    }
    // Narrow the interval; a more critical class wins where they do not overlap.
    if (cLo.value > lo.value) {
      if (cLo.value <= hi.value) lo = cLo;
      else {
        for (const b of cLo.by)
          overruled.push({
            ...b,
            by: `asks at least ${whole(cLo.value)}, but ${hi.by.map((x) => `${x.source} (${x.criticality})`).join(', ')} allows at most ${whole(hi.value)}`,
          });
        lo = { value: hi.value, by: hi.by };
      }
    } else if (cLo.value === lo.value && cLo.by.length) lo = { value: lo.value, by: [...lo.by, ...cLo.by] };
    if (cHi.value < hi.value) {
      if (cHi.value >= lo.value) hi = cHi;
      else {
        for (const b of cHi.by)
          overruled.push({
            ...b,
            by: `asks at most ${whole(cHi.value)}, but ${lo.by.map((x) => `${x.source} (${x.criticality})`).join(', ')} needs at least ${whole(lo.value)}`,
          });
        hi = { value: lo.value, by: lo.by };
      }
    } else if (cHi.value === hi.value && cHi.by.length) hi = { value: hi.value, by: [...hi.by, ...cHi.by] };
    after.set(cls, { lo, hi });

    if (targets.length) {
      const interval = { min: lo.value, max: hi.value };
      const ranked = targets
        .map((t) => ({ t, v: clamp(t.value, interval) }))
        .sort((a, b) => Math.abs(a.v - spec.neutral) - Math.abs(b.v - spec.neutral) || a.v - b.v || canonical(a.t, b.t));
      const [win, ...rest] = ranked;
      if (win) {
        chosen = { value: win.v, by: binding(win.t) };
        for (const r of rest) overruled.push({ ...binding(r.t), by: `${win.t.source} asks less (${whole(win.v)}) in the same class` });
      }
    }
  }

  const interval = { min: lo.value, max: hi.value };
  const base = chosen ? chosen.value : clamp(spec.neutral, interval);
  const added = applyOffsets(base, proposals, after, chosen?.by.criticality ?? null, overruled);
  const value = added.value;
  if (added.boundBy.length) {
    const wanted = base + added.asked;
    return { target, value, interval, chosenBy: chosen?.by ?? null, boundBy: value !== wanted ? added.boundBy : [], overruled, offset: value - base };
  }
  const wanted = chosen
    ? proposals.find((p): p is Target => p.kind === 'target' && p.source === chosen.by.source && p.why === chosen.by.why)?.value
    : spec.neutral;
  const boundBy: Binding[] = [];
  // A constraint bound the value when the chosen value (before offsets) sits on it and someone wanted something else.
  if ((wanted !== undefined && wanted !== base) || overruled.length > 0) {
    if (base === lo.value) boundBy.push(...lo.by);
    if (base === hi.value && hi !== lo) for (const b of hi.by) if (!boundBy.some((x) => x.source === b.source && x.why === b.why)) boundBy.push(b);
  }
  return { target, value, interval, chosenBy: chosen?.by ?? null, boundBy, overruled, offset: value - base };
}

/** Adds the offsets class by class, least critical first, each clamped into its class's interval. */
function applyOffsets(
  base: number,
  proposals: readonly Proposal[],
  after: ReadonlyMap<Criticality, { lo: Edge; hi: Edge }>,
  pinnedBy: Criticality | null,
  overruled: (Binding & { by: string })[],
): { value: number; asked: number; boundBy: Binding[] } {
  const offsets = proposals.filter((p): p is Offset => p.kind === 'offset').sort(canonical);
  if (offsets.length === 0) return { value: base, asked: 0, boundBy: [] };
  const rank = (c: Criticality): number => CRITICALITY.indexOf(c);
  let value = base;
  let asked = 0;
  let boundBy: Binding[] = [];
  for (const cls of [...CRITICALITY].reverse()) {
    const mine = offsets.filter((o) => o.criticality === cls);
    if (mine.length === 0) continue;
    if (pinnedBy !== null && rank(cls) > rank(pinnedBy)) {
      for (const o of mine) overruled.push({ ...binding(o), by: `value fixed by a more critical (${pinnedBy}) target` });
      continue;
    }
    const sum = mine.reduce((n, o) => n + o.value, 0);
    asked += sum;
    const edges = after.get(cls);
    const lo = edges?.lo.value ?? -Infinity;
    const hi = edges?.hi.value ?? Infinity;
    const moved = value + sum;
    value = Math.min(hi, Math.max(lo, moved));
    if (value !== moved) {
      const edge = value === hi ? edges?.hi : edges?.lo;
      boundBy = [...(edge?.by ?? [])];
      for (const o of mine)
        overruled.push({ ...binding(o), by: `offset cut to ${whole(value)}: ${boundBy.map((b) => `${b.source} (${b.criticality})`).join(', ')}` });
    }
  }
  return { value, asked, boundBy };
}

/** Resolves every variable named by a proposal or a spec. The map is sorted by variable name. */
export function resolve(proposals: readonly Proposal[], specs: Readonly<Record<string, VariableSpec>> = {}): ReadonlyMap<string, Resolution> {
  const byTarget = new Map<string, Proposal[]>();
  for (const p of proposals) {
    if (p.kind === 'bound' && p.min !== undefined && p.max !== undefined && Number.isNaN(p.min + p.max)) continue;
    if (p.kind !== 'bound' && !Number.isFinite(p.value)) continue;
    byTarget.set(p.target, [...(byTarget.get(p.target) ?? []), p]);
  }
  const names = [...new Set([...byTarget.keys()])].sort();
  const out = new Map<string, Resolution>();
  for (const n of names) out.set(n, resolveVariable(n, byTarget.get(n) ?? [], specs[n]));
  return out;
}
