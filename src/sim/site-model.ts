import { mulberry32 } from './prng.js';
import { systemClock } from '../util/clock.js';
import type { LoadSample } from './load-profile.js';
import { DEFAULT_ELECTRICAL, evaluateSite, mainVoltage, type Electrical, type Inputs, type SiteState } from './site-physics.js';
import { EnergySystem, type EnergySystemSpec } from './energy-system.js';
import { NOMINAL_HZ, type FrequencyExcursion, type FrequencyPoint } from './grid-frequency.js';
import { MAIN_METER_ID, PHASES, planCustomers, sizeCustomers, type CustomerSpec, type Phase } from './site-plan.js';

export type Clock = () => number;

export interface SiteModelOptions {
  readonly seed?: number;
  /** Single-phase customer meters at addresses 2..N+1 (default 24). */
  readonly customers?: number;
  /** Where "now" comes from; tests pass a frozen or stepped clock. Default systemClock. */
  readonly clock?: Clock;
  /** Start of simulated time; default clock(). */
  readonly startMs?: number;
  /** Shifts the daily load shapes to local time (e.g. 3 for East Africa). */
  readonly utcOffsetHours?: number;
  /** Longest integration step: a long advance is cut into steps this size so counters stay right. */
  readonly maxStepMs?: number;
  readonly electrical?: Partial<Electrical>;
  /** A battery inverter, PV and a generator at the main bus (issue 10); absent = a site of loads only. */
  readonly energy?: EnergySystemSpec;
  /** Physics step of the energy system for short advances (a long one is taken in one exact step). Default 100 ms. */
  readonly energyStepMs?: number;
}

export interface SiteMeterInfo {
  readonly id: number;
  readonly name: string;
  readonly role: 'main' | 'customer';
  readonly phases: 1 | 3;
  /** The phase a single-phase customer is connected to. */
  readonly phase?: Phase;
}

export type MeterValues = Readonly<Record<string, number>>;

interface Counters {
  importKwh: number;
  exportKwh: number;
}

const WMS_PER_KWH = 3.6e9; // 1 kWh = 1000 W x 3 600 000 ms

/**
 * A mini-grid: one three-phase main meter at the connection point and N single-phase customer
 * meters. Instantaneous values are a pure function of (seed, time, relays, overrides, unmetered
 * loads); energy counters integrate active power with the value at the start of each step, so the
 * same seed and sequence of times always give the same counters.
 */
export class SiteModel {
  readonly seed: number;
  readonly mainId = MAIN_METER_ID;
  readonly customers: readonly CustomerSpec[];
  private readonly clock: Clock;
  private readonly maxStepMs: number;
  private readonly disconnected = new Set<number>();
  private readonly overrides = new Map<number, LoadSample>();
  private readonly unmeteredW: Record<Phase, number> = { L1: 0, L2: 0, L3: 0 };
  private readonly disturbance: { voltageOffsetV: Record<Phase, number>; frequencyHz: number | null; excursion: FrequencyExcursion | null } = {
    voltageOffsetV: { L1: 0, L2: 0, L3: 0 },
    frequencyHz: null,
    excursion: null,
  };
  private readonly inputs: Inputs;
  /** The site's own sources, when it has any. */
  readonly energy?: EnergySystem;
  private readonly energyStepMs: number;
  private readonly supply?: {
    injectionW: Record<Phase, number>;
    gridConnected: boolean;
    livePhases: Set<Phase>;
    islandVoltage: number;
    islandFrequency: number;
  };
  private readonly counters = new Map<number, Counters>();
  private state: SiteState;

  constructor(options: SiteModelOptions = {}) {
    this.seed = options.seed ?? 1;
    this.clock = options.clock ?? systemClock;
    this.maxStepMs = options.maxStepMs ?? 10_000;
    this.energyStepMs = options.energyStepMs ?? 100;
    if (options.energy) {
      this.energy = new EnergySystem(options.energy, this.seed, options.utcOffsetHours ?? 0);
      this.supply = {
        injectionW: { L1: 0, L2: 0, L3: 0 },
        gridConnected: true,
        livePhases: new Set(PHASES),
        islandVoltage: options.energy.inverter.nominalVoltage,
        islandFrequency: NOMINAL_HZ,
      };
    }
    this.customers = sizeCustomers(planCustomers(options.customers ?? 24), this.seed);
    this.inputs = {
      seed: this.seed,
      utcOffsetHours: options.utcOffsetHours ?? 0,
      electrical: { ...DEFAULT_ELECTRICAL, ...options.electrical },
      customers: this.customers,
      disconnected: this.disconnected,
      overrides: this.overrides,
      unmeteredW: this.unmeteredW,
      disturbance: this.disturbance,
      ...(this.supply ? { supply: this.supply } : {}),
    };
    // Meters arrive with some history on their counters.
    const rng = mulberry32(this.seed ^ 0x5eed);
    for (const c of this.customers) this.counters.set(c.id, { importKwh: 200 + 2800 * rng(), exportKwh: c.hasPv ? 20 + 200 * rng() : 0 });
    this.counters.set(this.mainId, { importKwh: 30_000 + 50_000 * rng(), exportKwh: 0 });
    this.state = evaluateSite(this.inputs, options.startMs ?? this.clock());
  }

  /**
   * Sets a meter's counters to what was stored before a restart, so they continue instead of
   * starting again from the seed's values (a step backwards that looks like a new meter).
   */
  restoreCounters(id: number, c: { importKwh?: number; exportKwh?: number }): void {
    const n = this.counters.get(id);
    if (!n) return;
    if (c.importKwh !== undefined && Number.isFinite(c.importKwh)) n.importKwh = c.importKwh;
    if (c.exportKwh !== undefined && Number.isFinite(c.exportKwh)) n.exportKwh = c.exportKwh;
  }

  /** Simulated time of the current values (ms). */
  get timeMs(): number {
    return this.state.tMs;
  }

  /** Advances to the clock's now. */
  update(): void {
    this.advanceTo(this.clock());
  }

  /** Moves simulated time forward, integrating energy; an earlier time is ignored (time never runs back). */
  advanceTo(tMs: number): void {
    while (this.state.tMs < tMs) {
      const dt = Math.min(this.maxStepMs, tMs - this.state.tMs);
      this.integrate(dt);
      this.stepEnergy(dt);
      this.state = evaluateSite(this.inputs, this.state.tMs + dt);
    }
  }

  meters(): SiteMeterInfo[] {
    return [
      { id: this.mainId, name: 'main', role: 'main', phases: 3 },
      ...this.customers.map((c) => ({ id: c.id, name: c.name, role: 'customer' as const, phases: 1 as const, phase: c.phase })),
    ];
  }

  /** A relay at the customer's meter opens (false) or closes (true): an open relay gives 0 W. */
  setLoadConnected(id: number, connected: boolean): void {
    this.customer(id);
    if (connected) this.disconnected.delete(id);
    else this.disconnected.add(id);
    this.reevaluate();
  }

  isLoadConnected(id: number): boolean {
    this.customer(id);
    return !this.disconnected.has(id);
  }

  /** Replaces a customer's load profile by a fixed load (PV stays); undefined restores the profile. */
  setLoadOverride(id: number, load: LoadSample | undefined): void {
    this.customer(id);
    if (load) this.overrides.set(id, load);
    else this.overrides.delete(id);
    this.reevaluate();
  }

  /** Adds load that only the main meter sees (theft, a bypassed meter); negative watts remove it. Returns the phase total. */
  addUnmeteredLoad(phase: Phase, watts: number): number {
    this.unmeteredW[phase] = Math.max(0, this.unmeteredW[phase] + watts);
    this.reevaluate();
    return this.unmeteredW[phase];
  }

  /**
   * A grid-side disturbance: shifts the supply voltage of the given phases by volts (every meter on
   * the phase sees it) and/or pins the frequency. Replaces the previous one; {} restores normal supply.
   */
  setGridDisturbance(d: { voltageOffsetV?: Partial<Record<Phase, number>>; frequencyHz?: number }): void {
    for (const ph of PHASES) this.disturbance.voltageOffsetV[ph] = d.voltageOffsetV?.[ph] ?? 0;
    this.disturbance.frequencyHz = d.frequencyHz ?? null;
    this.disturbance.excursion = null;
    this.reevaluate();
  }

  /** The utility's frequency pinned at hz (null: nominal with its wander again); voltages stay as they are. */
  setGridFrequency(hz: number | null): void {
    this.disturbance.frequencyHz = hz;
    this.disturbance.excursion = null;
    this.reevaluate();
  }

  /** A scripted excursion of the utility's frequency from now (grid-frequency.ts); replaces a pinned value. */
  setFrequencyExcursion(points: readonly FrequencyPoint[]): void {
    this.disturbance.frequencyHz = null;
    this.disturbance.excursion = { startMs: this.state.tMs, points: [...points].sort((a, b) => a.afterMs - b.afterMs) };
    this.reevaluate();
  }

  /** What the grid-forming inverter makes while islanded (null: nominal 50 Hz). */
  setIslandFrequency(hz: number | null): void {
    if (!this.supply) throw new Error('this simulated site has no inverter to form an island; set sim.energy');
    this.supply.islandFrequency = hz ?? NOMINAL_HZ;
    this.reevaluate();
  }

  /** The frequency on the site's bus now: the utility's, or the island's while islanded. */
  get frequencyHz(): number {
    return this.state.frequency;
  }

  /** Per-phase power balance at the current time: what the main meter sees and where it goes. */
  phaseFlows(): Readonly<Record<Phase, { readonly mainW: number; readonly customersW: number; readonly unmeteredW: number; readonly lossW: number }>> {
    const out = {} as Record<Phase, { mainW: number; customersW: number; unmeteredW: number; lossW: number }>;
    for (const ph of PHASES) {
      const s = this.state.phases[ph];
      out[ph] = { mainW: s.p, customersW: s.customersW, unmeteredW: s.unmeteredW, lossW: s.lossW };
    }
    return out;
  }

  /** Engineering values of one meter, keyed by catalogue channel names; undefined for an unknown id. */
  meterValues(id: number): MeterValues | undefined {
    if (id === this.mainId) return this.mainValues();
    const c = this.state.customers.get(id);
    const n = this.counters.get(id);
    if (!c || !n) return undefined;
    const s = Math.hypot(c.p, c.q);
    return {
      Voltage_L1: c.voltage,
      Current_L1: c.current,
      ActivePower: c.p,
      ReactivePower: c.q,
      ApparentPower: s,
      PowerFactor: s > 0 ? c.p / s : 1,
      Frequency: this.state.frequency,
      EnergyImport: n.importKwh,
      EnergyExport: n.exportKwh,
    };
  }

  private mainValues(): MeterValues {
    const st = this.state;
    const out: Record<string, number> = {};
    const v = {} as Record<Phase, number>;
    let p = 0;
    let q = 0;
    let s = 0;
    for (const ph of PHASES) {
      const x = st.phases[ph];
      const sp = Math.hypot(x.p, x.q);
      v[ph] = mainVoltage(this.inputs, this.mainId, st, ph);
      out[`Voltage_${ph}`] = v[ph];
      out[`Current_${ph}`] = x.current;
      out[`ActivePower_${ph}`] = x.p;
      out[`ReactivePower_${ph}`] = x.q;
      out[`PowerFactor_${ph}`] = sp > 0 ? x.p / sp : 1;
      p += x.p;
      q += x.q;
      s += sp;
    }
    // Phases 120 degrees apart: |Va - Vb| = sqrt(Va^2 + Vb^2 + Va Vb).
    const ll = (a: number, b: number): number => Math.sqrt(a * a + b * b + a * b);
    out.Voltage_L12 = ll(v.L1, v.L2);
    out.Voltage_L23 = ll(v.L2, v.L3);
    out.Voltage_L31 = ll(v.L3, v.L1);
    const n = this.counters.get(this.mainId) ?? { importKwh: 0, exportKwh: 0 };
    Object.assign(out, {
      ActivePower: p,
      ReactivePower: q,
      ApparentPower: s,
      PowerFactor: s > 0 ? p / s : 1,
      Frequency: st.frequency,
      EnergyImport: n.importKwh,
      EnergyExport: n.exportKwh,
    });
    return out;
  }

  /** Adds dt of energy at the current (left-end) power to every counter. */
  private integrate(dtMs: number): void {
    const add = (id: number, watts: number): void => {
      const n = this.counters.get(id);
      if (!n) return;
      if (watts >= 0) n.importKwh += (watts * dtMs) / WMS_PER_KWH;
      else n.exportKwh += (-watts * dtMs) / WMS_PER_KWH;
    };
    for (const [id, c] of this.state.customers) add(id, c.p);
    add(
      this.mainId,
      PHASES.reduce((sum, ph) => sum + this.state.phases[ph].p, 0),
    );
  }

  /**
   * Steps the energy system over [t, t + dt] with the demand at t: in steps of energyStepMs when dt is
   * short (live polling, tests), in one exact step when it is long (backfill), then hands its output to
   * the site physics.
   */
  private stepEnergy(dt: number): void {
    const energy = this.energy;
    if (!energy) return;
    const demand = { L1: this.state.phases.L1.demandW, L2: this.state.phases.L2.demandW, L3: this.state.phases.L3.demandW };
    const step = dt > 2000 ? dt : this.energyStepMs;
    for (let done = 0; done < dt; done += step) energy.step(this.state.tMs + done, Math.min(step, dt - done), demand);
    this.syncSupply();
  }

  private syncSupply(): void {
    const energy = this.energy;
    const supply = this.supply;
    if (!energy || !supply) return;
    const snap = energy.snapshot();
    Object.assign(supply.injectionW, energy.injectionW());
    supply.gridConnected = snap.gridConnected;
    supply.livePhases.clear();
    for (const ph of snap.livePhases) supply.livePhases.add(ph);
  }

  /** Fault injection: the utility supply fails (false) or returns (true); the site islands at once. */
  setGridConnected(up: boolean): void {
    if (!this.energy) throw new Error('this simulated site has no inverter to island on; set sim.energy');
    this.energy.setGridConnected(up);
    this.energy.step(this.state.tMs, 1, { L1: this.state.phases.L1.demandW, L2: this.state.phases.L2.demandW, L3: this.state.phases.L3.demandW });
    this.syncSupply();
    this.reevaluate();
  }

  /** Per-phase demand of the site now (loads and losses), W. */
  demandW(): Record<Phase, number> {
    return { L1: this.state.phases.L1.demandW, L2: this.state.phases.L2.demandW, L3: this.state.phases.L3.demandW };
  }

  /** Re-evaluates after a command changed the energy system's output outside a step (tests). */
  refresh(): void {
    this.syncSupply();
    this.reevaluate();
  }

  private reevaluate(): void {
    this.state = evaluateSite(this.inputs, this.state.tMs);
  }

  private customer(id: number): CustomerSpec {
    const c = this.customers.find((x) => x.id === id);
    if (!c) throw new RangeError(`no simulated customer meter with id ${id}; ids are ${this.customers[0]?.id ?? '-'}..${this.customers.at(-1)?.id ?? '-'}`);
    return c;
  }
}
