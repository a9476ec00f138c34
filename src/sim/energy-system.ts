import { hourOfDay } from './load-profile.js';
import { smoothNoise, streamId } from './prng.js';
import { PHASES, type Phase } from './site-plan.js';

/**
 * The simulated site's energy assets (issue 10 item 4): a battery behind an inverter, PV arrays per
 * phase, a generator and the grid connection, stepped in time by the site model.
 *
 * Sign conventions (docs/sign-conventions.md): battery power positive = discharge (into the site), PV and generator
 * power positive = production. What the main meter sees on a phase is
 *   demand - PV - battery discharge - generator
 * while the grid is up, and 0 while the site is islanded.
 *
 * The inverter follows its target with a first-order lag and a ramp limit. `responseMs` is its response
 * time as a datasheet states it: 95 % of a step after that long (time constant responseMs / 3), the same
 * model as test/control-settle.test.ts. (Until 2026-12 the sim used it as the time constant itself, an
 * inverter three times slower than its stated response: 95 % of a step took 1.8 s at 600 ms.) The lag and
 * the ramp limit (`rampWPerS`) are both applied at every step, so a test that steps the clock by 100 ms sees the response
 * a controller would. Stepping is exact for the lag (exp(-dt/tau)), so long steps (backfill) stay stable.
 * Everything is a pure function of (seed, the sequence of step times, the commands): no Math.random, no
 * machine clock.
 */
export interface BatterySpec {
  readonly capacityWh: number;
  /** 0..1 */
  readonly initialSoc: number;
  readonly chargeEfficiency: number;
  readonly dischargeEfficiency: number;
  readonly maxChargeW: number;
  readonly maxDischargeW: number;
  /** 0..1: the BMS allows no discharge at or below, no charge at or above (with a 5 % taper). */
  readonly socMin: number;
  readonly socMax: number;
  /** LFP 16s: 51.2 V nominal. */
  readonly nominalVoltage: number;
  readonly internalResistanceOhm: number;
  readonly ambientC: number;
}

export type InverterProtocol = 'generic' | 'srne';

export interface InverterSpec {
  /** generic: follows a power setpoint (per phase); srne: only modes and current caps (docs/devices.md#no-power-setpoint). */
  readonly protocol: InverterProtocol;
  /** The phases the inverter is connected to (SRNE HF/ASF are single-phase: ['L1']). */
  readonly phases: readonly Phase[];
  /** Response time: 95 % of a power step after this long (a first-order lag, time constant responseMs / 3). */
  readonly responseMs: number;
  /** Most change of output power per second (W/s, per inverter). */
  readonly rampWPerS: number;
  /** AC rating of the inverter (W, all its phases together). */
  readonly ratedW: number;
  readonly nominalVoltage: number;
}

export interface PvSpec {
  /** Peak (clear-sky noon) output of the array on each phase, W. */
  readonly peakW: Readonly<Record<Phase, number>>;
  /** 0 = clear sky, 1 = heavy passing clouds. */
  readonly cloudiness: number;
}

export interface GeneratorSpec {
  readonly ratedW: number;
  readonly startDelayMs: number;
  readonly rampWPerS: number;
}

export interface EnergySystemSpec {
  readonly battery: BatterySpec;
  readonly inverter: InverterSpec;
  readonly pv: PvSpec;
  readonly generator?: GeneratorSpec;
}

export const DEFAULT_BATTERY: BatterySpec = {
  capacityWh: 15_360, // three 5.12 kWh LFP packs (the pilot site's battery)
  initialSoc: 0.6,
  chargeEfficiency: 0.96,
  dischargeEfficiency: 0.96,
  maxChargeW: 6000,
  maxDischargeW: 6000,
  socMin: 0.1,
  socMax: 1,
  nominalVoltage: 51.2,
  internalResistanceOhm: 0.02,
  ambientC: 25,
};

export const DEFAULT_INVERTER: InverterSpec = {
  protocol: 'generic',
  phases: ['L1', 'L2', 'L3'],
  responseMs: 600,
  rampWPerS: 20_000,
  ratedW: 6000,
  nominalVoltage: 230,
};
export const DEFAULT_PV: PvSpec = { peakW: { L1: 1500, L2: 1500, L3: 1500 }, cloudiness: 0.5 };
export const DEFAULT_GENERATOR: GeneratorSpec = { ratedW: 8000, startDelayMs: 10_000, rampWPerS: 1000 };

/** SRNE settings (docs/devices.md#settings) as the physics uses them. */
export interface SrneSettings {
  /** 0 SOL, 1 UTI, 2 SBU */
  outputPriority: number;
  /** 0 CSO, 1 CUB, 2 SNU, 3 OSO */
  chargerPriority: number;
  maxChargeA: number;
  maxAcChargeA: number;
  /** % */
  socSwitchToGrid: number;
  socSwitchToBattery: number;
  socDischargeCutoff: number;
}

export const SRNE_FACTORY: SrneSettings = {
  outputPriority: 2,
  chargerPriority: 2,
  maxChargeA: 80,
  maxAcChargeA: 60,
  socSwitchToGrid: 20,
  socSwitchToBattery: 60,
  socDischargeCutoff: 10,
};

/** What the inverter is doing, before a model family encodes it as a state code. */
export type InverterMode = 'standby' | 'line' | 'inverter' | 'island' | 'shutdown';

const CLOUD: Record<Phase, number> = { L1: streamId('pv.cloud.L1'), L2: streamId('pv.cloud.L2'), L3: streamId('pv.cloud.L3') };
const CLOUD_FAST: Record<Phase, number> = { L1: streamId('pv.cloudfast.L1'), L2: streamId('pv.cloudfast.L2'), L3: streamId('pv.cloudfast.L3') };

/**
 * Available PV power of one phase's array at time t: a half-sine day from 06:00 to 18:00 local,
 * dimmed by passing clouds that are different on each phase (each array has its own cloud stream):
 * a slow 10-minute component and fast 1-minute shadows, cut off below 15 % of clear sky.
 */
export function pvAvailableW(seed: number, spec: PvSpec, phase: Phase, tMs: number, utcOffsetHours: number): number {
  const peak = spec.peakW[phase];
  const h = hourOfDay(tMs, utcOffsetHours);
  if (peak <= 0 || h <= 6 || h >= 18) return 0;
  const clear = Math.sin((Math.PI * (h - 6)) / 12);
  const slow = smoothNoise(seed, CLOUD[phase], tMs, 600_000);
  const fast = smoothNoise(seed, CLOUD_FAST[phase], tMs, 60_000);
  const shade = spec.cloudiness * Math.max(0, 0.5 * slow + 0.5 * fast + 0.3);
  return peak * clear * Math.min(1, Math.max(0.15, 1 - shade));
}

/** First-order lag towards `target` over dt (exact), then at most `rampW` of change. */
/** A first-order lag reaches 95 % of a step after three time constants (1 - e^-3). */
export const RESPONSE_TIME_CONSTANTS = 3;

export function respond(current: number, target: number, dtMs: number, tauMs: number, rampW: number): number {
  const lagged = tauMs > 0 ? current + (target - current) * (1 - Math.exp(-dtMs / tauMs)) : target;
  const step = lagged - current;
  return current + Math.max(-rampW, Math.min(rampW, step));
}

const zeroPhases = (): Record<Phase, number> => ({ L1: 0, L2: 0, L3: 0 });
const sum = (r: Readonly<Record<Phase, number>>): number => r.L1 + r.L2 + r.L3;
const clamp = (x: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, x));
const MS_PER_H = 3_600_000;

/** A read-only view of the system now, for register images and tests. */
export interface EnergySnapshot {
  readonly soc: number;
  /** Battery AC power per phase (discharge +). */
  readonly essW: Readonly<Record<Phase, number>>;
  readonly pvW: Readonly<Record<Phase, number>>;
  readonly pvAvailableW: Readonly<Record<Phase, number>>;
  readonly genW: Readonly<Record<Phase, number>>;
  readonly genRunning: boolean;
  readonly allowedChargeW: number;
  readonly allowedDischargeW: number;
  readonly batteryVoltage: number;
  /** Discharge + */
  readonly batteryCurrent: number;
  readonly batteryTempC: number;
  readonly mode: InverterMode;
  readonly gridConnected: boolean;
  /** Phases with supply while islanded (all phases while the grid is up). */
  readonly livePhases: ReadonlySet<Phase>;
  readonly eStop: boolean;
}

export class EnergySystem {
  readonly spec: EnergySystemSpec;
  private soc: number;
  private tempC: number;
  private readonly essW = zeroPhases();
  private readonly pvW = zeroPhases();
  private readonly pvAvail = zeroPhases();
  private readonly genW = zeroPhases();
  private dcW = 0;
  private mode: InverterMode = 'standby';
  private lineMode = false;
  private readonly live = new Set<Phase>(PHASES);
  /** Generic protocol: battery power setpoint per phase (discharge +). */
  readonly setpointW = zeroPhases();
  /** PV curtailment: most total PV output (W); Infinity = none. */
  pvLimitW = Number.POSITIVE_INFINITY;
  /** Tests and benchmarks: PV available per phase (W) instead of the sun and clouds (a step); null = the profile. */
  pvOverrideW: Partial<Record<Phase, number>> | null = null;
  readonly srne: SrneSettings = { ...SRNE_FACTORY };
  private gridUp = true;
  private eStopped = false;
  private genCommand = false;
  private genStartAt: number | null = null;
  private genOn = false;
  /** Generator setpoint while the grid is up (W); islanded it carries what the site needs. */
  genSetpointW: number;

  constructor(
    spec: EnergySystemSpec,
    private readonly seed: number,
    private readonly utcOffsetHours = 0,
  ) {
    this.spec = spec;
    this.soc = clamp(spec.battery.initialSoc, 0, 1);
    this.tempC = spec.battery.ambientC;
    this.genSetpointW = spec.generator?.ratedW ?? 0;
  }

  // --- fault injection and inputs ---------------------------------------------------------------

  /** The utility supply fails (false) or returns (true). */
  setGridConnected(up: boolean): void {
    this.gridUp = up;
  }

  get gridConnected(): boolean {
    return this.gridUp;
  }

  /** Tests: the battery's state of charge jumps to `fraction` (0..1), as after hours of use. */
  setSoc(fraction: number): void {
    this.soc = clamp(fraction, 0, 1);
  }

  /** The emergency stop input: every asset goes to its safe state (inverter off, PV off, generator stopped). */
  setEmergencyStop(pressed: boolean): void {
    this.eStopped = pressed;
    if (!pressed) return;
    // A hard trip: output stops at once, not after the response lag.
    this.setGeneratorRunning(false, 0);
    this.mode = 'shutdown';
    for (const ph of PHASES) this.essW[ph] = this.pvW[ph] = 0;
  }

  get emergencyStop(): boolean {
    return this.eStopped;
  }

  /** Start (after the start delay) or stop the generator. */
  setGeneratorRunning(run: boolean, nowMs: number): void {
    if (run && this.eStopped) return;
    if (run && !this.genCommand) this.genStartAt = nowMs + (this.spec.generator?.startDelayMs ?? 0);
    if (!run) {
      this.genStartAt = null;
      this.genOn = false;
      for (const ph of PHASES) this.genW[ph] = 0;
    }
    this.genCommand = run && this.spec.generator !== undefined;
  }

  /** Generic protocol: a total setpoint is shared equally by the inverter's phases. */
  setTotalSetpoint(w: number): void {
    const phases = this.spec.inverter.phases;
    for (const ph of PHASES) this.setpointW[ph] = phases.includes(ph) ? w / phases.length : 0;
  }

  setPhaseSetpoint(phase: Phase, w: number): void {
    if (this.spec.inverter.phases.includes(phase)) this.setpointW[phase] = w;
  }

  // --- state --------------------------------------------------------------------------------------

  /** Limits of the battery now (BMS): 0 at the SoC limits, a linear taper over the last 5 %; halved above 45 degC. */
  allowed(): { chargeW: number; dischargeW: number } {
    const b = this.spec.battery;
    const taper = 0.05;
    const hot = this.tempC > 45 ? 0.5 : 1;
    const dis = b.maxDischargeW * clamp((this.soc - b.socMin) / taper, 0, 1) * hot;
    const chg = b.maxChargeW * clamp((b.socMax - this.soc) / taper, 0, 1) * hot;
    const rated = this.spec.inverter.ratedW;
    return { chargeW: Math.min(chg, rated), dischargeW: Math.min(dis, rated) };
  }

  batteryVoltage(): number {
    const b = this.spec.battery;
    const ocv = b.nominalVoltage * (0.94 + 0.12 * this.soc);
    return ocv - (this.dcW / ocv) * b.internalResistanceOhm;
  }

  snapshot(): EnergySnapshot {
    const a = this.allowed();
    const v = this.batteryVoltage();
    return {
      soc: this.soc,
      essW: { ...this.essW },
      pvW: { ...this.pvW },
      pvAvailableW: { ...this.pvAvail },
      genW: { ...this.genW },
      genRunning: this.genOn,
      allowedChargeW: a.chargeW,
      allowedDischargeW: a.dischargeW,
      batteryVoltage: v,
      batteryCurrent: this.dcW / v,
      batteryTempC: this.tempC,
      mode: this.mode,
      gridConnected: this.gridUp,
      livePhases: new Set(this.live),
      eStop: this.eStopped,
    };
  }

  /** What the assets put into each phase now (PV + battery + generator), W. */
  injectionW(): Record<Phase, number> {
    const out = zeroPhases();
    for (const ph of PHASES) out[ph] = this.pvW[ph] + this.essW[ph] + this.genW[ph];
    return out;
  }

  // --- physics ------------------------------------------------------------------------------------

  /**
   * Advances dt from t (the left end): `demandW` is what the site consumes on each phase (loads and
   * feeder losses), as the site model computed it at t.
   */
  step(tMs: number, dtMs: number, demandW: Readonly<Record<Phase, number>>): void {
    if (dtMs <= 0) return;
    const inv = this.spec.inverter;
    for (const ph of PHASES)
      this.pvAvail[ph] =
        inv.phases.includes(ph) || inv.protocol === 'generic'
          ? (this.pvOverrideW?.[ph] ?? pvAvailableW(this.seed, this.spec.pv, ph, tMs, this.utcOffsetHours))
          : 0;
    this.stepGenerator(tMs, dtMs);
    const a = this.allowed();
    const genFormsGrid = !this.gridUp && this.genOn;
    if (this.eStopped) {
      this.mode = 'shutdown';
      this.follow({ ess: zeroPhases(), pv: zeroPhases() }, dtMs, true);
    } else if (!this.gridUp && !this.genOn) {
      this.island(demandW, a);
    } else {
      const targets = inv.protocol === 'srne' ? this.srneTargets(demandW, a) : this.genericTargets(a);
      this.follow(targets, dtMs, false);
      if (genFormsGrid) this.genCarries(demandW);
      for (const ph of PHASES) this.live.add(ph);
    }
    this.integrate(dtMs);
  }

  private genericTargets(a: { chargeW: number; dischargeW: number }): { ess: Record<Phase, number>; pv: Record<Phase, number> } {
    const phases = this.spec.inverter.phases;
    const ess = zeroPhases();
    // The inverter's limits are for all its phases: scale a per-phase request down as a whole.
    const want = PHASES.map((ph) => (phases.includes(ph) ? this.setpointW[ph] : 0));
    const dis = want.filter((w) => w > 0).reduce((s, w) => s + w, 0);
    const chg = -want.filter((w) => w < 0).reduce((s, w) => s + w, 0);
    const kd = dis > a.dischargeW ? a.dischargeW / dis : 1;
    const kc = chg > a.chargeW ? a.chargeW / chg : 1;
    PHASES.forEach((ph, i) => {
      const w = want[i] ?? 0;
      ess[ph] = w >= 0 ? w * kd : w * kc;
    });
    this.mode = Math.abs(sum(ess)) < 1 ? 'standby' : 'inverter';
    return { ess, pv: this.curtailed(this.pvLimitW) };
  }

  /** PV output under a total limit, shared in proportion to what each array can give. */
  private curtailed(limitW: number): Record<Phase, number> {
    const total = sum(this.pvAvail);
    const k = total > limitW ? Math.max(0, limitW) / total : 1;
    return { L1: this.pvAvail.L1 * k, L2: this.pvAvail.L2 * k, L3: this.pvAvail.L3 * k };
  }

  /**
   * SRNE HF/ASF behaviour from its settings (docs/devices.md#srne-hybrid-inverters), simplified:
   * - inverter mode (SOL by day, SBU): PV then battery carry the load on the inverter's phases; PV
   *   surplus charges the battery up to the charge cap and is curtailed beyond (no export);
   * - line mode (UTI, SOL at night, SBU below the SoC switch-to-utility threshold until SoC is back at
   *   the switch-to-battery threshold): the utility carries the load; PV charges the battery first, and
   *   the utility charges it too (CUB, SNU; CSO only without PV; never OSO) up to the AC charge cap.
   */
  private srneTargets(
    demandW: Readonly<Record<Phase, number>>,
    a: { chargeW: number; dischargeW: number },
  ): { ess: Record<Phase, number>; pv: Record<Phase, number> } {
    const s = this.srne;
    const phases = this.spec.inverter.phases;
    const v = this.batteryVoltage();
    const socPct = this.soc * 100;
    const pvAvail = phases.reduce((x, ph) => x + this.pvAvail[ph], 0);
    const load = phases.reduce((x, ph) => x + Math.max(0, demandW[ph]), 0);
    if (s.outputPriority === 1) this.lineMode = true;
    else {
      if (socPct <= Math.max(s.socSwitchToGrid, s.socDischargeCutoff)) this.lineMode = true;
      else if (socPct >= s.socSwitchToBattery || (!this.lineMode && socPct > s.socSwitchToGrid)) this.lineMode = false;
      if (s.outputPriority === 0 && pvAvail < 1) this.lineMode = true;
    }
    if (!this.gridUp) this.lineMode = false; // the generator forms the grid: treat like line power absent
    const chargeCap = Math.min(a.chargeW, s.maxChargeA * v);
    const dischargeCap = socPct <= s.socDischargeCutoff ? 0 : a.dischargeW;
    let battery: number;
    let pvOut: number;
    if (!this.lineMode) {
      this.mode = 'inverter';
      const deficit = load - pvAvail;
      battery = deficit >= 0 ? Math.min(deficit, dischargeCap) : -Math.min(-deficit, chargeCap);
      pvOut = Math.min(pvAvail, load + Math.max(0, -battery));
    } else {
      this.mode = 'line';
      const pvCharge = Math.min(pvAvail, chargeCap);
      const acAllowed = s.chargerPriority === 1 || s.chargerPriority === 2 || (s.chargerPriority === 0 && pvAvail < 1);
      const acCharge = acAllowed ? Math.max(0, Math.min(s.maxAcChargeA * v, chargeCap - pvCharge)) : 0;
      battery = -(pvCharge + acCharge);
      pvOut = pvCharge + Math.min(pvAvail - pvCharge, load);
    }
    const ess = zeroPhases();
    const pv = zeroPhases();
    for (const ph of phases) {
      ess[ph] = battery / phases.length;
      pv[ph] = pvAvail > 0 ? (pvOut * this.pvAvail[ph]) / pvAvail : 0;
    }
    return { ess, pv };
  }

  /** The inverter forms the island: it supplies its phases at once (a voltage source), others go dark. */
  private island(demandW: Readonly<Record<Phase, number>>, a: { chargeW: number; dischargeW: number }): void {
    this.mode = 'island';
    this.live.clear();
    const phases = this.spec.inverter.phases;
    const need = phases.reduce((x, ph) => x + Math.max(0, demandW[ph]), 0);
    const avail = phases.reduce((x, ph) => x + this.pvAvail[ph], 0);
    const deficit = need - avail;
    if (deficit > a.dischargeW || need > this.spec.inverter.ratedW + avail) {
      // Overload or an empty battery: the inverter trips and the island goes dark.
      this.mode = 'shutdown';
      for (const ph of PHASES) this.essW[ph] = this.pvW[ph] = 0;
      return;
    }
    // PV surplus beyond what the battery can take is curtailed (frequency-shift in a real island).
    const pvTotal = deficit >= 0 ? avail : Math.min(avail, need + a.chargeW);
    for (const ph of PHASES) {
      const on = phases.includes(ph);
      if (on) this.live.add(ph);
      this.pvW[ph] = on && avail > 0 ? (pvTotal * this.pvAvail[ph]) / avail : 0;
      this.essW[ph] = on ? Math.max(0, demandW[ph]) - this.pvW[ph] : 0;
    }
  }

  /** Islanded with the generator running: it carries whatever the site needs beyond PV and battery. */
  private genCarries(demandW: Readonly<Record<Phase, number>>): void {
    const rated = this.spec.generator?.ratedW ?? 0;
    let total = 0;
    for (const ph of PHASES) {
      this.genW[ph] = Math.max(0, demandW[ph] - this.pvW[ph] - this.essW[ph]);
      total += this.genW[ph];
    }
    if (total > rated) {
      this.genOn = false; // overload trip
      this.genCommand = false;
      for (const ph of PHASES) this.genW[ph] = 0;
      this.live.clear();
    }
  }

  private stepGenerator(tMs: number, dtMs: number): void {
    const g = this.spec.generator;
    if (!g || !this.genCommand) return;
    if (!this.genOn && this.genStartAt !== null && tMs + dtMs >= this.genStartAt) this.genOn = true;
    if (!this.genOn || !this.gridUp) return;
    const target = clamp(this.genSetpointW, 0, g.ratedW) / 3;
    const ramp = (g.rampWPerS * dtMs) / 1000 / 3;
    for (const ph of PHASES) this.genW[ph] = respond(this.genW[ph], target, dtMs, 0, ramp);
  }

  /** First-order lag and ramp limit towards the targets (the inverter's, shared by its phases). */
  private follow(t: { ess: Record<Phase, number>; pv: Record<Phase, number> }, dtMs: number, hard: boolean): void {
    const inv = this.spec.inverter;
    if (hard) {
      for (const ph of PHASES) this.essW[ph] = this.pvW[ph] = 0;
      return;
    }
    const n = Math.max(1, inv.phases.length);
    const ramp = (inv.rampWPerS * dtMs) / 1000 / n;
    for (const ph of PHASES) {
      this.essW[ph] = respond(this.essW[ph], t.ess[ph], dtMs, inv.responseMs / RESPONSE_TIME_CONSTANTS, ramp);
      // PV may always drop to what the sun gives; curtailment and release follow the inverter's lag.
      this.pvW[ph] = Math.min(this.pvAvail[ph], respond(this.pvW[ph], t.pv[ph], dtMs, inv.responseMs / RESPONSE_TIME_CONSTANTS, ramp));
    }
  }

  /** SoC from the battery's DC power: charging stores P x eta_c, discharging takes P / eta_d. */
  private integrate(dtMs: number): void {
    const b = this.spec.battery;
    const ac = sum(this.essW);
    this.dcW = ac >= 0 ? ac / b.dischargeEfficiency : ac * b.chargeEfficiency;
    this.soc = clamp(this.soc - (this.dcW * dtMs) / MS_PER_H / b.capacityWh, 0, 1);
    // Heat: steady state 8 K above ambient at full power, 30-minute thermal time constant.
    const steady = b.ambientC + (8 * Math.abs(this.dcW)) / Math.max(1, b.maxDischargeW);
    this.tempC += (steady - this.tempC) * (1 - Math.exp(-dtMs / 1_800_000));
  }
}
