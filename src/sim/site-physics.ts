import { loadAt, pvAt, type LoadSample } from './load-profile.js';
import { gaussianAt, smoothNoise, streamId } from './prng.js';
import { PHASES, type CustomerSpec, type Phase } from './site-plan.js';
import { excursionHz, NOMINAL_HZ, type FrequencyExcursion } from './grid-frequency.js';

/**
 * The electrical state of the site at one instant, computed in one pass (no iteration): the feeder
 * is a lumped R + jX per phase between the main meter and the customers, and voltage drops use the
 * usual approximation dV = (R P + X Q) / V.
 */
export interface Electrical {
  readonly nominalVoltage: number;
  /** Transformer and service cable upstream of the main meter, per phase. */
  readonly sourceR: number;
  readonly sourceX: number;
  /** Distribution feeder between the main meter and the customers, per phase (losses happen here). */
  readonly feederR: number;
  readonly feederX: number;
}

export const DEFAULT_ELECTRICAL: Electrical = { nominalVoltage: 230, sourceR: 0.05, sourceX: 0.03, feederR: 0.5, feederX: 0.15 };

export interface Inputs {
  readonly seed: number;
  readonly utcOffsetHours: number;
  readonly electrical: Electrical;
  readonly customers: readonly CustomerSpec[];
  readonly disconnected: ReadonlySet<number>;
  readonly overrides: ReadonlyMap<number, LoadSample>;
  readonly unmeteredW: Readonly<Record<Phase, number>>;
  /** A grid-side disturbance (tests, demos): supply voltage shifted per phase, frequency pinned. */
  readonly disturbance?: GridDisturbanceState;
  /** The site's own sources (battery, PV, generator) and the state of the grid; absent = none. */
  readonly supply?: SupplyState;
}

/**
 * Sources at the main bus, downstream of the main meter (issue 10): they offset what the main meter
 * sees per phase. When the grid fails the site islands: the main meter reads no power, the phases
 * the inverter (or generator) forms carry its voltage and frequency, and the others go dark.
 */
export interface SupplyState {
  readonly injectionW: Readonly<Record<Phase, number>>;
  readonly gridConnected: boolean;
  readonly livePhases: ReadonlySet<Phase>;
  readonly islandVoltage: number;
  readonly islandFrequency: number;
}

export interface GridDisturbanceState {
  readonly voltageOffsetV: Readonly<Record<Phase, number>>;
  /** The utility's frequency pinned; null = the normal, slowly wandering one (or the excursion). */
  readonly frequencyHz: number | null;
  /** A scripted excursion of the utility's frequency (grid-frequency.ts); null = none. */
  readonly excursion?: FrequencyExcursion | null;
}

export interface CustomerState {
  readonly voltage: number;
  readonly current: number;
  readonly p: number;
  readonly q: number;
}

export interface PhaseState {
  readonly voltage: number;
  readonly current: number;
  /** What the main meter sees on this phase: customers + unmetered loads + feeder losses. */
  readonly p: number;
  readonly q: number;
  readonly customersW: number;
  readonly unmeteredW: number;
  readonly lossW: number;
  /** What the site consumes on this phase (loads and losses), before its own sources offset it. */
  readonly demandW: number;
}

export interface SiteState {
  readonly tMs: number;
  readonly frequency: number;
  readonly customers: ReadonlyMap<number, CustomerState>;
  readonly phases: Readonly<Record<Phase, PhaseState>>;
}

const FREQ = streamId('frequency');
const SOURCE_V: Record<Phase, number> = { L1: streamId('vsrc.L1'), L2: streamId('vsrc.L2'), L3: streamId('vsrc.L3') };
const V_MEASURE = streamId('vmeasure');

/** A meter's own reading noise on voltage: 0.1 V, new every second. */
const measuredVoltage = (inp: Inputs, meterId: number, tMs: number, v: number): number =>
  v + 0.1 * gaussianAt(inp.seed, V_MEASURE + meterId, Math.floor(tMs / 1000));

function customerPower(inp: Inputs, c: CustomerSpec, tMs: number): { p: number; q: number } {
  if (inp.disconnected.has(c.id)) return { p: 0, q: 0 }; // the relay cuts load and PV alike
  const load = inp.overrides.get(c.id) ?? loadAt(c.kind, inp.seed + c.id, tMs, c.peakW, inp.utcOffsetHours);
  const q = load.watts * Math.tan(Math.acos(load.powerFactor));
  return { p: load.watts - pvAt(inp.seed + c.id, tMs, c.pvPeakW, inp.utcOffsetHours), q };
}

export function evaluateSite(inp: Inputs, tMs: number): SiteState {
  const e = inp.electrical;
  const powers = new Map(inp.customers.map((c) => [c.id, customerPower(inp, c, tMs)]));
  const customers = new Map<number, CustomerState>();
  const phases = {} as Record<Phase, PhaseState>;
  const islanded = inp.supply !== undefined && !inp.supply.gridConnected;
  for (const phase of PHASES) {
    const onPhase = inp.customers.filter((c) => c.phase === phase);
    if (islanded && !inp.supply.livePhases.has(phase)) {
      // A dark phase: no voltage, no load.
      for (const c of onPhase) customers.set(c.id, { voltage: 0, current: 0, p: 0, q: 0 });
      phases[phase] = { voltage: 0, current: 0, p: 0, q: 0, customersW: 0, unmeteredW: 0, lossW: 0, demandW: 0 };
      continue;
    }
    const unmeteredW = inp.unmeteredW[phase];
    const customersW = onPhase.reduce((s, c) => s + (powers.get(c.id)?.p ?? 0), 0);
    const customersQ = onPhase.reduce((s, c) => s + (powers.get(c.id)?.q ?? 0), 0);
    const loadP = customersW + unmeteredW;
    const sourceV = islanded
      ? inp.supply.islandVoltage
      : e.nominalVoltage * 1.01 + 1.5 * smoothNoise(inp.seed, SOURCE_V[phase], tMs, 300_000) + (inp.disturbance?.voltageOffsetV[phase] ?? 0);
    const feederI = Math.hypot(loadP, customersQ) / sourceV;
    const lossW = e.feederR * feederI * feederI;
    const demandW = loadP + lossW;
    // Islanded, the main meter sits between a dead grid and the site: no power flows through it.
    const p = islanded ? 0 : loadP + lossW - (inp.supply?.injectionW[phase] ?? 0);
    const q = islanded ? 0 : customersQ + e.feederX * feederI * feederI;
    const mainV = islanded ? sourceV : sourceV - (e.sourceR * p + e.sourceX * q) / sourceV;
    const feederDrop = (e.feederR * loadP + e.feederX * customersQ) / mainV;
    for (const c of onPhase) {
      const pw = powers.get(c.id) ?? { p: 0, q: 0 };
      const v = mainV - c.feederPosition * feederDrop;
      customers.set(c.id, { voltage: measuredVoltage(inp, c.id, tMs, v), current: Math.hypot(pw.p, pw.q) / v, p: pw.p, q: pw.q });
    }
    phases[phase] = { voltage: mainV, current: Math.hypot(p, q) / mainV, p, q, customersW, unmeteredW, lossW, demandW };
  }
  // Islanded, the grid-forming inverter makes the frequency; the utility's (pinned or scripted) does not reach the site.
  const frequency = islanded ? inp.supply.islandFrequency : utilityFrequency(inp, tMs);
  return { tMs, frequency, customers, phases };
}

/** The utility's frequency at t: pinned, scripted, or nominal with its slow wander (+-40 mHz). */
export function utilityFrequency(inp: Inputs, tMs: number): number {
  const d = inp.disturbance;
  if (d?.frequencyHz !== undefined && d.frequencyHz !== null) return d.frequencyHz;
  if (d?.excursion) return excursionHz(d.excursion, tMs);
  return NOMINAL_HZ + 0.04 * smoothNoise(inp.seed, FREQ, tMs, 20_000);
}

/** Main-meter voltage reading of a phase, with the meter's own noise. */
export function mainVoltage(inp: Inputs, mainId: number, s: SiteState, phase: Phase): number {
  if (s.phases[phase].voltage === 0) return 0; // a dark phase (islanded)
  return measuredVoltage(inp, mainId * 10 + PHASES.indexOf(phase), s.tMs, s.phases[phase].voltage);
}
