import { command, PHASES, type Battery, type EvCharger, type Generator, type GridMeter, type Phase, type PvInverter } from './capabilities.js';
import type { Bound } from './proposal.js';
import { read, type Snapshot } from './snapshot.js';
import { tenth, thousandth, whole } from '../util/text-number.js';

/**
 * The safety envelope: per-asset limits that no controller, operator or schedule can exceed.
 * Pure: (snapshot, limits, last commands, time) -> safety-class bounds. The cycle gives these bounds
 * to the resolver with every other proposal (so the resolver can say which one bound the result),
 * and `enforce` clamps the resolved values once more before anything is dispatched.
 *
 * The safe state (docs/architecture.md "The safety envelope"; issue 10 item 7):
 * - a stale or missing measurement the asset depends on -> battery idle (0 W), PV held to the
 *   configured export limit (0 when export is forbidden: PV curtailed), never a more aggressive command;
 * - the emergency stop (or, by default, an emergency-stop input that cannot be read) -> every asset
 *   safe: battery 0 W, PV 0 W, generator stopped.
 * A value that is not reported at all (a channel the device does not have, e.g. cell voltages on an
 * SRNE) is not a limit; a value that is reported but STALE or ERROR is a missing measurement.
 */
export interface BatteryLimits {
  readonly battery: Battery;
  readonly socMinPct: number;
  readonly socMaxPct: number;
  /** Largest change per second away from idle (W/s); moving toward idle is never ramp-limited. */
  readonly rampWPerS: number;
  readonly tempMinC?: number;
  readonly tempMaxC?: number;
  /** Below this no charging (LFP: 0 °C). */
  readonly chargeTempMinC?: number;
  readonly cellVoltageMinV?: number;
  readonly cellVoltageMaxV?: number;
}

export interface PvLimits {
  readonly pv: PvInverter;
  /** Largest rise of the limit per second (W/s); lowering is never ramp-limited. */
  readonly rampWPerS?: number;
}

export interface SafetyConfig {
  readonly grid?: GridMeter;
  readonly batteries: readonly BatteryLimits[];
  readonly pv: readonly PvLimits[];
  readonly generators: readonly Generator[];
  /** EV chargers: their limit within 0..rating; paused on an emergency stop or without a usable grid meter. */
  readonly evChargers?: readonly EvCharger[];
  /** The configured export limit (W, >= 0); 0 forbids export; null when the site may export freely. */
  readonly exportLimitW: number | null;
  /** E.g. `io0/EmergencyStop`, 1 = pressed. */
  readonly eStopChannel?: string;
  /** An emergency-stop input that cannot be read counts as pressed (default true). */
  readonly eStopFailSafe?: boolean;
  /** Measurements older than this are missing (ms). */
  readonly maxAgeMs: number;
}

export interface SafeAsset {
  readonly component: string;
  readonly why: string;
}

export interface Envelope {
  readonly bounds: readonly Bound[];
  /** Assets held in their safe state this cycle, with the reason (for alarms: lost communication). */
  readonly safe: readonly SafeAsset[];
  readonly eStop: boolean;
}

const SOURCE = 'safety-envelope';

function eStopState(s: Snapshot, cfg: SafetyConfig, nowMs: number): string | null {
  if (!cfg.eStopChannel) return null;
  const r = read(s, cfg.eStopChannel, nowMs, cfg.maxAgeMs);
  if (!r.ok) return cfg.eStopFailSafe === false ? null : `emergency-stop input not readable (${r.why})`;
  return r.value !== 0 ? 'emergency stop pressed' : null;
}

/** Reads a channel that may not be reported: undefined = not reported, null = reported but unusable. */
function optional(s: Snapshot, addr: string, nowMs: number, maxAgeMs: number): { v: number } | { bad: string } | undefined {
  if (!s.channels.has(addr)) return undefined;
  const r = read(s, addr, nowMs, maxAgeMs);
  return r.ok ? { v: r.value } : { bad: r.why };
}

/** The ramp window around the last command: away from zero by at most `step`, toward zero freely. */
export function rampWindow(last: number | undefined, step: number): { min: number; max: number } {
  if (last === undefined) return { min: -step, max: step };
  return { min: last > 0 ? -step : last - step, max: last < 0 ? step : last + step };
}

function batteryBounds(
  s: Snapshot,
  cfg: SafetyConfig,
  l: BatteryLimits,
  last: Readonly<Record<string, number>>,
  dtS: number,
  nowMs: number,
  eStop: string | null,
  gridBad: string | null,
): { bounds: Bound[]; safe: string | null } {
  const b = l.battery;
  const c = b.component;
  const why: string[] = [];
  let safe: string | null = eStop ?? gridBad;
  let min = -b.maxChargeW;
  let max = b.maxDischargeW;
  const notes: string[] = [`rating ${-b.maxChargeW}..${b.maxDischargeW} W`];
  if (!safe) {
    for (const ch of ['Soc', 'ActivePower']) {
      const r = read(s, `${c}/${ch}`, nowMs, cfg.maxAgeMs);
      if (!r.ok) safe = `${r.why}: battery idle`;
    }
  }
  if (!safe) {
    const fault = optional(s, `${c}/FaultCode`, nowMs, cfg.maxAgeMs);
    if (fault && 'bad' in fault) safe = `${fault.bad}: battery idle`;
    else if (fault && fault.v !== 0) safe = `fault code ${fault.v}: battery idle`;
  }
  if (!safe) {
    const soc = read(s, `${c}/Soc`, nowMs, cfg.maxAgeMs);
    if (soc.ok && soc.value >= l.socMaxPct) {
      min = Math.max(min, 0);
      notes.push(`SoC ${tenth(soc.value)} % >= ${l.socMaxPct} %: no charging`);
    }
    if (soc.ok && soc.value <= l.socMinPct) {
      max = Math.min(max, 0);
      notes.push(`SoC ${tenth(soc.value)} % <= ${l.socMinPct} %: no discharging`);
    }
    const ac = optional(s, `${c}/AllowedChargePower`, nowMs, cfg.maxAgeMs);
    const ad = optional(s, `${c}/AllowedDischargePower`, nowMs, cfg.maxAgeMs);
    if (ac && 'bad' in ac) safe = `${ac.bad}: battery idle`;
    else if (ac) {
      min = Math.max(min, -Math.max(0, ac.v));
      notes.push(`BMS allows ${Math.round(ac.v)} W charge`);
    }
    if (ad && 'bad' in ad) safe = `${ad.bad}: battery idle`;
    else if (ad) {
      max = Math.min(max, Math.max(0, ad.v));
      notes.push(`BMS allows ${Math.round(ad.v)} W discharge`);
    }
    const t = optional(s, `${c}/BatteryTemperature`, nowMs, cfg.maxAgeMs);
    if (t && 'bad' in t) safe = `${t.bad}: battery idle`;
    else if (t) {
      if ((l.tempMaxC !== undefined && t.v >= l.tempMaxC) || (l.tempMinC !== undefined && t.v <= l.tempMinC))
        safe = `battery temperature ${tenth(t.v)} °C outside ${l.tempMinC ?? '-'}..${l.tempMaxC ?? '-'} °C: battery idle`;
      else if (l.chargeTempMinC !== undefined && t.v < l.chargeTempMinC) {
        min = Math.max(min, 0);
        notes.push(`${tenth(t.v)} °C below ${l.chargeTempMinC} °C: no charging`);
      }
    }
    const vMax = optional(s, `${c}/CellVoltageMax`, nowMs, cfg.maxAgeMs);
    const vMin = optional(s, `${c}/CellVoltageMin`, nowMs, cfg.maxAgeMs);
    if ((vMax && 'bad' in vMax) || (vMin && 'bad' in vMin)) safe = 'cell voltages reported but not usable: battery idle';
    else {
      if (vMax && l.cellVoltageMaxV !== undefined && vMax.v >= l.cellVoltageMaxV) {
        min = Math.max(min, 0);
        notes.push(`cell ${thousandth(vMax.v)} V >= ${l.cellVoltageMaxV} V: no charging`);
      }
      if (vMin && l.cellVoltageMinV !== undefined && vMin.v <= l.cellVoltageMinV) {
        max = Math.min(max, 0);
        notes.push(`cell ${thousandth(vMin.v)} V <= ${l.cellVoltageMinV} V: no discharging`);
      }
    }
  }
  why.push(...notes);
  const perPhase = b.kind === 'battery-setpoint' && b.perPhase;
  const targets: Array<{ target: string; share: number }> = [{ target: command.batteryPower(b), share: 1 }];
  if (perPhase) for (const p of PHASES) targets.push({ target: command.batteryPower(b, p), share: 1 / b.phases });
  const bounds: Bound[] = [];
  for (const t of targets) {
    if (safe) {
      bounds.push({ kind: 'bound', target: t.target, min: 0, max: 0, criticality: 'safety', source: SOURCE, why: safe });
      continue;
    }
    const ramp = rampWindow(last[t.target], l.rampWPerS * t.share * dtS);
    const lo = Math.max(min * t.share, ramp.min);
    const hi = Math.min(max * t.share, ramp.max);
    const rampNote = ramp.min > min * t.share || ramp.max < max * t.share ? `; ramp ${l.rampWPerS} W/s from ${whole(last[t.target] ?? 0)} W` : '';
    bounds.push({
      kind: 'bound',
      target: t.target,
      min: Math.min(lo, Math.max(0, hi)),
      max: Math.max(hi, Math.min(0, lo)),
      criticality: 'safety',
      source: SOURCE,
      why: `${c}: ${why.join('; ')}${rampNote}`,
    });
  }
  return { bounds, safe };
}

function pvBounds(
  s: Snapshot,
  cfg: SafetyConfig,
  l: PvLimits,
  last: Readonly<Record<string, number>>,
  dtS: number,
  nowMs: number,
  eStop: string | null,
  gridBad: string | null,
): { bounds: Bound[]; safe: string | null } {
  const pv = l.pv;
  const phases: readonly (Phase | undefined)[] = pv.perPhase ? [undefined, ...PHASES] : [undefined];
  const own = read(s, `${pv.component}/ActivePower`, nowMs, cfg.maxAgeMs);
  let safe: string | null = eStop;
  let cap: number | null = null;
  if (!safe && (gridBad || !own.ok)) {
    const cause = gridBad ?? (own.ok ? '' : own.why);
    if (cfg.exportLimitW !== null) {
      cap = cfg.exportLimitW;
      safe = `${cause}: PV held to the configured export limit of ${cfg.exportLimitW} W${cfg.exportLimitW === 0 ? ' (export forbidden: curtailed)' : ''}`;
    }
  }
  const bounds: Bound[] = phases.map((p) => {
    const target = command.pvLimit(pv, p);
    const share = p ? 1 / pv.phases : 1;
    if (eStop) return { kind: 'bound', target, min: 0, max: 0, criticality: 'safety', source: SOURCE, why: `${eStop}: PV off` };
    let max = pv.ratedW * share;
    let why = `${pv.component}: rating ${Math.round(max)} W`;
    if (cap !== null) {
      max = Math.min(max, cap * share);
      why = safe ?? why;
    } else if (l.rampWPerS !== undefined && last[target] !== undefined) {
      const up = (last[target] ?? 0) + l.rampWPerS * share * dtS;
      if (up < max) {
        max = up;
        why += `; ramp ${l.rampWPerS} W/s`;
      }
    }
    return { kind: 'bound', target, min: 0, max, criticality: 'safety', source: SOURCE, why };
  });
  return { bounds, safe };
}

/**
 * The envelope for this cycle. `last` holds the commands dispatched in the previous cycle (for the
 * ramp limits), `dtMs` the time since then.
 */
export function envelope(s: Snapshot, cfg: SafetyConfig, last: Readonly<Record<string, number>>, dtMs: number, nowMs: number): Envelope {
  const eStop = eStopState(s, cfg, nowMs);
  const dtS = Math.max(0, dtMs) / 1000;
  let gridBad: string | null = null;
  if (cfg.grid) {
    const gr = read(s, `${cfg.grid.component}/ActivePower`, nowMs, cfg.maxAgeMs);
    if (!gr.ok) gridBad = `grid meter not usable (${gr.why})`;
  }
  const bounds: Bound[] = [];
  const safe: SafeAsset[] = [];
  for (const l of cfg.batteries) {
    const r = batteryBounds(s, cfg, l, last, dtS, nowMs, eStop, gridBad ? `${gridBad}: battery idle` : null);
    bounds.push(...r.bounds);
    if (r.safe) safe.push({ component: l.battery.component, why: r.safe });
  }
  for (const l of cfg.pv) {
    const r = pvBounds(s, cfg, l, last, dtS, nowMs, eStop, gridBad);
    bounds.push(...r.bounds);
    if (r.safe) safe.push({ component: l.pv.component, why: r.safe });
  }
  for (const g of cfg.generators) {
    if (eStop) {
      bounds.push({
        kind: 'bound',
        target: command.generatorRun(g),
        min: 0,
        max: 0,
        criticality: 'safety',
        source: SOURCE,
        why: `${eStop}: generator stopped`,
      });
      safe.push({ component: g.component, why: eStop });
    } else bounds.push({ kind: 'bound', target: command.generatorRun(g), min: 0, max: 1, criticality: 'safety', source: SOURCE, why: 'run is 0 or 1' });
  }
  for (const ev of cfg.evChargers ?? []) {
    // A car is a load: without the grid meter nobody knows whether it pushes the site past a limit.
    const stop = eStop ?? (gridBad ? `${gridBad}: EV charging paused` : null);
    bounds.push({
      kind: 'bound',
      target: command.evLimit(ev),
      min: 0,
      max: stop ? 0 : ev.maxW,
      criticality: 'safety',
      source: SOURCE,
      why: stop ?? `${ev.component}: rating ${Math.round(ev.maxW)} W`,
    });
    if (stop) safe.push({ component: ev.component, why: stop });
  }
  return { bounds, safe, eStop: eStop !== null };
}

export interface Enforced {
  readonly value: number;
  /** The value asked for, when the envelope had to change it (a resolver bug or a governance override). */
  readonly clampedFrom?: number;
  readonly why?: string;
}

/**
 * The last check before dispatch: every value inside every envelope bound of its variable. Values
 * for variables the envelope does not know pass unchanged; a non-finite value becomes the nearest
 * safe value (0 clamped into the bounds).
 */
export function enforce(values: ReadonlyMap<string, number>, env: Envelope): Map<string, Enforced> {
  const byTarget = new Map<string, Bound[]>();
  for (const b of env.bounds) byTarget.set(b.target, [...(byTarget.get(b.target) ?? []), b]);
  const out = new Map<string, Enforced>();
  for (const [target, asked] of values) {
    const bs = byTarget.get(target) ?? [];
    const min = Math.max(-Infinity, ...bs.map((b) => b.min ?? -Infinity));
    const max = Math.min(Infinity, ...bs.map((b) => b.max ?? Infinity));
    const start = Number.isFinite(asked) ? asked : 0;
    const v = min > max ? Math.min(max, Math.max(min, 0)) : Math.min(max, Math.max(min, start));
    if (v !== asked) {
      const binding = bs.find((b) => b.min === v || b.max === v) ?? bs[0];
      out.set(target, { value: v, clampedFrom: asked, why: binding?.why ?? 'not a finite number' });
    } else out.set(target, { value: v });
  }
  return out;
}
