import { command, type Battery, type Generator } from '../edge/capabilities.js';
import { ok, fmtW, type ControllerResult, type Criticality, type Proposal } from '../edge/proposal.js';
import { fresh, type Snapshot } from '../edge/snapshot.js';
import { tenth } from '../util/text-number.js';
import { DEFAULT_MAX_AGE_MS } from './assets.js';

/**
 * Generator start/stop (docs/ems-modes.md, "Generator"): during an outage (or always, on a site without
 * a grid meter) the generator starts when the battery's SoC falls below `startSocPct` or the site's load
 * exceeds what the inverter can carry (`loadStartPct` of `inverterCapacityW`), each held for `confirmMs`
 * so a spike starts nothing. It stops when the grid is back, or when the SoC is at or above the higher
 * `stopSocPct` and the load is at or below `loadStopPct` of the capacity; never before `minRunMs`
 * (engines and starters wear with short runs), and it does not start again within `minOffMs`.
 *
 * On grid the grid carries overloads and recharges the battery, so nothing starts. Unreadable inputs
 * start nothing and stop nothing (a running generator keeps running): the status says why.
 *
 * Generator operation is supply quality and L1 by default (docs/ems-modes.md#autonomy-levels): the cycle
 * shows this controller's start or stop as a recommendation for people on site, unless the site raises
 * the level. Pure: (snapshot, config, state, time).
 */
export interface GeneratorConfig {
  readonly id: string;
  readonly generator: Generator;
  /** Whose SoC is watched; without one only the load starts the generator. */
  readonly battery?: Battery;
  /** `grid/Frequency`; none on an off-grid site, which is then always "in an outage". */
  readonly frequencyChannel?: string;
  readonly minHz?: number;
  readonly maxHz?: number;
  /** The channels whose sum is the site's load (W): grid import, battery discharge, PV and generator production. */
  readonly loadChannels: readonly string[];
  /** What the inverter(s) can carry alone (W). */
  readonly inverterCapacityW: number;
  readonly startSocPct: number;
  readonly stopSocPct: number;
  readonly loadStartPct?: number;
  readonly loadStopPct?: number;
  readonly minRunMs?: number;
  readonly minOffMs?: number;
  readonly confirmMs?: number;
  readonly criticality?: Criticality;
  readonly maxAgeMs?: number;
}

export interface GeneratorState {
  /** Whether this controller wants the generator running. */
  readonly on: boolean;
  /** When `on` last changed (ms); null before the first change. */
  readonly sinceMs: number | null;
  /** Why it is on (or why it stopped). */
  readonly why: string;
  /** Since when a start condition has held (ms), or null. */
  readonly startSeenMs: number | null;
}
export const GENERATOR_START: GeneratorState = { on: false, sinceMs: null, why: 'not needed', startSeenMs: null };

export const GENERATOR_DEFAULTS = { loadStartPct: 100, loadStopPct: 80, minRunMs: 15 * 60_000, minOffMs: 5 * 60_000, confirmMs: 10_000 } as const;

/** Grid present (true), absent (false), or unreadable (undefined); absent when the site has no grid meter. */
function gridPresent(s: Snapshot, cfg: GeneratorConfig, nowMs: number, maxAge: number): boolean | undefined {
  if (!cfg.frequencyChannel) return false;
  const f = fresh(s, cfg.frequencyChannel, nowMs, maxAge);
  if (f === undefined) return undefined;
  return f >= (cfg.minHz ?? 47) && f <= (cfg.maxHz ?? 52);
}

function siteLoad(s: Snapshot, cfg: GeneratorConfig, nowMs: number, maxAge: number): number | undefined {
  let sum = 0;
  for (const ch of cfg.loadChannels) {
    const w = fresh(s, ch, nowMs, maxAge);
    if (w === undefined) return undefined;
    sum += w;
  }
  return sum;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function generatorControl(s: Snapshot, cfg: GeneratorConfig, st: GeneratorState, nowMs: number): ControllerResult<GeneratorState> {
  const maxAge = cfg.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const d = { ...GENERATOR_DEFAULTS, ...definedOf(cfg) };
  const grid = gridPresent(s, cfg, nowMs, maxAge);
  const soc = cfg.battery ? fresh(s, `${cfg.battery.component}/Soc`, nowMs, maxAge) : undefined;
  const load = siteLoad(s, cfg, nowMs, maxAge);
  const startW = (cfg.inverterCapacityW * d.loadStartPct) / 100;
  const stopW = (cfg.inverterCapacityW * d.loadStopPct) / 100;
  const unreadable = [
    grid === undefined ? `${cfg.frequencyChannel ?? 'grid frequency'} unreadable` : null,
    cfg.battery && soc === undefined ? `${cfg.battery.component}/Soc unreadable` : null,
    load === undefined ? `load unreadable (${cfg.loadChannels.join(' + ')})` : null,
  ].filter((x): x is string => x !== null);

  let next = st;
  let held: string | null = null;
  if (!st.on) {
    const reasons: string[] = [];
    if (grid === false) {
      if (soc !== undefined && soc < cfg.startSocPct) reasons.push(`battery SoC ${tenth(soc)} % below ${cfg.startSocPct} %`);
      if (load !== undefined && load > startW) reasons.push(`load ${fmtW(load)} above the ${fmtW(startW)} the inverter carries`);
    }
    const offFor = st.sinceMs === null ? Infinity : nowMs - st.sinceMs;
    if (reasons.length === 0) next = st.startSeenMs === null ? st : { ...st, startSeenMs: null };
    else if (offFor < d.minOffMs)
      held = `start wanted (${reasons.join('; ')}) but stopped only ${Math.round(offFor / 1000)} s ago (minimum off ${d.minOffMs / 1000} s)`;
    else {
      const seen = st.startSeenMs ?? nowMs;
      const why = `${grid === false && cfg.frequencyChannel ? 'outage' : 'off grid'}: ${reasons.join('; ')}`;
      next = nowMs - seen >= d.confirmMs ? { on: true, sinceMs: nowMs, why, startSeenMs: null } : { ...st, startSeenMs: seen };
      if (!next.on) held = `${why}; confirming for ${d.confirmMs / 1000} s (since ${iso(seen)})`;
    }
  } else {
    let stop: string | null = null;
    if (grid === true) stop = 'the grid is back';
    else if ((cfg.battery === undefined || (soc !== undefined && soc >= cfg.stopSocPct)) && load !== undefined && load <= stopW)
      stop = `${soc !== undefined ? `battery SoC ${tenth(soc)} % at or above ${cfg.stopSocPct} % and ` : ''}load ${fmtW(load)} within ${fmtW(stopW)}`;
    if (stop !== null) {
      const since = st.sinceMs ?? nowMs;
      const ranFor = nowMs - since;
      if (ranFor >= d.minRunMs) next = { on: false, sinceMs: nowMs, why: stop, startSeenMs: null };
      else held = `${stop}, but it keeps running until its minimum run of ${d.minRunMs / 60_000} min ends at ${iso(since + d.minRunMs)}`;
    }
  }

  const proposals: Proposal[] = [];
  const target = command.generatorRun(cfg.generator);
  const running = fresh(s, `${cfg.generator.component}/Running`, nowMs, maxAge);
  const criticality = cfg.criticality ?? 'supply-quality';
  if (next.on) proposals.push({ kind: 'target', target, value: 1, criticality, source: cfg.id, why: `start ${cfg.generator.component}: ${next.why}` });
  // Stopped: ask for a stop only while it still runs (people on site may not have stopped it yet).
  else if (running !== undefined && running >= 0.5 && next.sinceMs !== null)
    proposals.push({ kind: 'target', target, value: 0, criticality, source: cfg.id, why: `stop ${cfg.generator.component}: ${next.why}` });

  // What this controller wants, not what the engine does: at L1 people on site decide.
  const state = next.on
    ? `start wanted since ${iso(next.sinceMs ?? nowMs)} (${next.why})`
    : next.sinceMs === null
      ? next.why
      : `stop wanted since ${iso(next.sinceMs)} (${next.why})`;
  const detail = [state, held, unreadable.length ? `inputs: ${unreadable.join('; ')}` : null].filter((x) => x !== null).join('; ');
  if (unreadable.length && proposals.length === 0) return { proposals, state: next, status: { state: 'failed', reason: detail } };
  return ok(proposals, next, detail);
}

/** The optional settings that were given (undefined ones leave the defaults). */
function definedOf(cfg: GeneratorConfig): Partial<typeof GENERATOR_DEFAULTS> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(GENERATOR_DEFAULTS) as Array<keyof typeof GENERATOR_DEFAULTS>) {
    const v = cfg[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}
