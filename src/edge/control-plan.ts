import { DEFAULT_ACTION_AUTONOMY, type AssetCapability } from '../governance/actions.js';
import type { AutonomyLevel } from '../governance/types.js';
import {
  PHASES,
  resolveCapabilities,
  type AssetConfig,
  type Battery,
  type EvCharger,
  type PvInverter,
  type Relay,
  type SiteCapabilities,
} from './capabilities.js';
import type { ControlConfig, ControllerConfig } from './control-config.js';
import { CONTROLLER_KINDS } from './controller-registry.js';
import type { Criticality } from './proposal.js';
import type { SafetyConfig } from './safety-envelope.js';

/**
 * The site file's control section turned into what the cycle runs: capabilities, one runnable entry
 * per controller (its kind, its pure config with the capability objects filled in, its class and the
 * assets it steers), the safety configuration and the autonomy levels. Pure; every problem is named.
 */
export interface PlannedController {
  readonly id: string;
  readonly kind: string;
  readonly criticality: Criticality;
  /** The pure controller's config object (plain data: it crosses to the worker thread). */
  readonly config: Record<string, unknown>;
  /** Components it steers: they go to their safe state when it throws or hangs. */
  readonly assets: readonly string[];
  readonly start: unknown;
}

export interface ControlPlan {
  readonly caps: SiteCapabilities;
  readonly controllers: readonly PlannedController[];
  readonly safety: SafetyConfig;
  readonly autonomy: ReadonlyMap<string, AutonomyLevel>;
  readonly relayMeters: ReadonlyMap<string, number>;
}

/** A test's extra controller (registered through ControlTestHooks): kind from a hook module. */
export interface ExtraController {
  readonly id: string;
  readonly kind: string;
  readonly battery?: string;
  readonly criticality?: Criticality;
  readonly config?: Record<string, unknown>;
}

export const autonomyKey = (capability: AssetCapability, asset: string): string => `${capability}|${asset}`;

/** The asset name that sets a capability's level for every asset of the site (`control.autonomy`). */
export const SITE_WIDE = 'site';

/** The asset's own level, else the site-wide one, else the seed's default. */
export function levelOf(plan: Pick<ControlPlan, 'autonomy'>, capability: AssetCapability, asset: string): AutonomyLevel {
  return plan.autonomy.get(autonomyKey(capability, asset)) ?? plan.autonomy.get(autonomyKey(capability, SITE_WIDE)) ?? DEFAULT_ACTION_AUTONOMY[capability];
}

const E_STOP_COMPONENT = 'estop';
/** The e-stop input as the envelope reads it: 1 = pressed (the cycle computes it from the configured channel). */
export const E_STOP_CHANNEL = `${E_STOP_COMPONENT}/Pressed`;

export function planControl(
  c: ControlConfig,
  o: { timeZone: string; extra?: readonly ExtraController[]; extraKinds?: ReadonlyMap<string, Criticality> },
): { ok: true; plan: ControlPlan } | { ok: false; problems: string[] } {
  const relayAssets: AssetConfig[] = c.shedding.map((s) => ({ type: 'relay', component: `relay${s.meter}`, role: s.critical ? 'critical' : 'shed' }));
  const r = resolveCapabilities([...c.assets, ...relayAssets]);
  if (!r.ok) return { ok: false, problems: r.problems.map((p) => `control.${p}`) };
  const caps = r.caps;
  const problems: string[] = [];
  const battery = (name: string | undefined, where: string): Battery | undefined => {
    const b = name ? caps.batteries.find((x) => x.component === name) : caps.batteries[0];
    if (!b)
      problems.push(
        `${where}: ${name ? `no battery asset "${name}"` : 'needs a battery asset'}; batteries: ${caps.batteries.map((x) => x.component).join(', ') || 'none'}`,
      );
    return b;
  };
  const pvOf = (name: string | undefined, where: string): PvInverter | undefined => {
    const p = name ? caps.pv.find((x) => x.component === name) : caps.pv[0];
    if (name && !p) problems.push(`${where}: no PV asset "${name}"`);
    return p;
  };
  const grid = (where: string) => {
    if (!caps.grid) problems.push(`${where}: needs a grid-meter asset`);
    return caps.grid;
  };
  const controllers: PlannedController[] = [];
  c.controllers.forEach((k: ControllerConfig, i) => {
    if (!k.enabled) return;
    const where = `control.controllers.${i} (${k.id})`;
    const kind = CONTROLLER_KINDS[k.kind];
    const criticality = k.criticality ?? kind?.criticality ?? 'optimisation';
    const base = { id: k.id, maxAgeMs: c.maxAgeMs };
    let config: Record<string, unknown> = base;
    let assets: string[] = [];
    switch (k.kind) {
      case 'self-consumption': {
        const b = battery(k.battery, where);
        config = { ...base, grid: grid(where), battery: b, targetW: k.targetW, criticality, ...(k.loop ? { loop: k.loop } : {}) };
        assets = b ? [b.component] : [];
        break;
      }
      case 'peak-shaving': {
        const b = caps.batteries.length || k.battery ? battery(k.battery, where) : undefined;
        const p = pvOf(k.pv, where);
        config = {
          ...base,
          grid: grid(where),
          battery: b,
          pv: p,
          importLimitW: k.importLimitW,
          exportLimitW: k.exportLimitW,
          ...(k.criticality ? { importCriticality: k.criticality, exportCriticality: k.criticality } : {}),
        };
        assets = [b?.component, p?.component].filter((x): x is string => !!x);
        break;
      }
      case 'zero-export': {
        const b = caps.batteries.length || k.battery ? battery(k.battery, where) : undefined;
        const p = pvOf(k.pv, where);
        config = { ...base, grid: grid(where), battery: b, pv: p, marginW: k.marginW, criticality, night: k.night, timeZone: o.timeZone };
        assets = [b?.component, p?.component].filter((x): x is string => !!x);
        break;
      }
      case 'backup-reserve': {
        const b = battery(k.battery, where);
        const g = grid(where);
        const pcc = caps.relays.find((x: Relay) => x.role === 'pcc');
        const shedStages = k.shedStages?.map((st, si) => ({
          ...(st.socPct !== undefined ? { socPct: st.socPct } : {}),
          relays: st.relays.flatMap((name, ri) => {
            const r = caps.relays.find((x) => x.component === name);
            if (!r || r.role !== 'shed')
              problems.push(
                `${where}.shedStages.${si}.relays.${ri}: ${r ? `${name} is a ${r.role} relay, never shed automatically` : `no relay "${name}"`}; shed relays: ${
                  caps.relays
                    .filter((x) => x.role === 'shed')
                    .map((x) => x.component)
                    .join(', ') || 'none'
                }`,
              );
            return r && r.role === 'shed' ? [r] : [];
          }),
        }));
        const minSoc = c.safety.batteries.find((x) => x.component === b?.component)?.socMinPct;
        config = {
          ...base,
          battery: b,
          floorPct: k.floorPct,
          frequencyChannel: g ? `${g.component}/Frequency` : undefined,
          confirmMs: k.confirmMs,
          returnStableMs: k.returnStableMs,
          restoreHoldMs: k.restoreHoldMs,
          rechargeW: k.rechargeW,
          rechargeHysteresisPct: k.rechargeHysteresisPct,
          shedStages,
          minSocPct: minSoc,
          shedHysteresisPct: k.shedHysteresisPct,
          shedDwellMs: k.shedDwellMs,
          restoreStepMs: k.restoreStepMs,
          minHz: k.minHz,
          maxHz: k.maxHz,
          pcc,
          shed: caps.relays.filter((x) => x.role === 'shed'),
          ...(k.criticality ? { reserveCriticality: k.criticality } : {}),
        };
        assets = [b?.component, pcc?.component, ...caps.relays.filter((x) => x.role === 'shed').map((x) => x.component)].filter((x): x is string => !!x);
        break;
      }
      case 'charge-only': {
        const b = battery(k.battery, where);
        config = { ...base, battery: b, socTargetPct: k.socTargetPct, rateW: k.rateW, window: k.window, timeZone: o.timeZone, criticality };
        assets = b ? [b.component] : [];
        break;
      }
      case 'charge-schedule': {
        const b = battery(k.battery, where);
        config = { ...base, battery: b, entries: k.entries, timeZone: o.timeZone, criticality };
        assets = b ? [b.component] : [];
        break;
      }
      case 'external-control': {
        const b = battery(k.battery, where);
        config = { ...base, battery: b, schedule: k.schedule, criticality };
        assets = b ? [b.component] : [];
        break;
      }
      case 'manual-setpoint': {
        const b = battery(k.battery, where);
        config = { ...base, battery: b, setpointW: k.setpointW, setBy: k.setBy, untilMs: k.untilMs, criticality };
        assets = b ? [b.component] : [];
        break;
      }
      case 'frequency-droop': {
        const b = battery(k.battery, where);
        const g = caps.grid;
        const p = k.pv ? pvOf(k.pv, where) : undefined;
        config = {
          ...base,
          battery: b,
          pv: p,
          maxResponseW: k.maxResponseW,
          f1: k.f1,
          f2: k.f2,
          f3: k.f3,
          f4: k.f4,
          frequencyChannel: g ? `${g.component}/Frequency` : undefined,
          criticality,
        };
        assets = [b?.component, p?.component].filter((x): x is string => !!x);
        break;
      }
      case 'generator': {
        const g = k.generator ? caps.generators.find((x) => x.component === k.generator) : caps.generators[0];
        if (!g)
          problems.push(
            `${where}: ${k.generator ? `no generator asset "${k.generator}"` : 'needs a generator asset'}; generators: ${caps.generators.map((x) => x.component).join(', ') || 'none'}`,
          );
        const b = caps.batteries.length || k.battery ? battery(k.battery, where) : undefined;
        const capacity = k.inverterCapacityW ?? b?.maxDischargeW;
        if (capacity === undefined || capacity <= 0) problems.push(`${where}: give inverterCapacityW (W), the load the inverter carries alone`);
        // The site's load: what the grid, the battery, PV and generators deliver (each sign: into the site).
        const loadChannels = [
          ...(caps.grid ? [`${caps.grid.component}/ActivePower`] : []),
          ...caps.batteries.map((x) => `${x.component}/ActivePower`),
          ...caps.pv.map((x) => `${x.component}/ActivePower`),
          ...caps.generators.map((x) => `${x.component}/ActivePower`),
        ];
        config = {
          ...base,
          generator: g,
          battery: b,
          frequencyChannel: caps.grid ? `${caps.grid.component}/Frequency` : undefined,
          loadChannels,
          inverterCapacityW: capacity,
          startSocPct: k.startSocPct,
          stopSocPct: k.stopSocPct,
          loadStartPct: k.loadStartPct,
          loadStopPct: k.loadStopPct,
          minRunMs: k.minRunMs,
          minOffMs: k.minOffMs,
          confirmMs: k.confirmMs,
          criticality,
        };
        assets = g ? [g.component] : [];
        break;
      }
      case 'passive':
        config = { id: k.id };
        break;
      case 'ev-surplus': {
        const b = caps.batteries.length || k.battery ? battery(k.battery, where) : undefined;
        const chargers: EvCharger[] = [];
        for (const name of k.chargers ?? caps.evChargers.map((x) => x.component)) {
          const ev = caps.evChargers.find((x) => x.component === name);
          if (ev) chargers.push(ev);
          else problems.push(`${where}: no ev-charger asset "${name}"; chargers: ${caps.evChargers.map((x) => x.component).join(', ') || 'none'}`);
        }
        if (chargers.length === 0 && !k.chargers) problems.push(`${where}: needs an ev-charger asset`);
        config = {
          ...base,
          grid: grid(where),
          battery: b,
          chargers,
          mode: k.mode,
          priority: k.priority,
          marginW: k.marginW,
          hysteresisW: k.hysteresisW,
          startDelayMs: k.startDelayMs,
          stopDelayMs: k.stopDelayMs,
          settleMs: k.settleMs,
          importLimitW: k.importLimitW,
          evMaxAgeMs: k.evMaxAgeMs,
          criticality,
        };
        assets = chargers.map((x) => x.component);
        break;
      }
      case 'utility-limits': {
        const b = caps.batteries.length || k.battery ? battery(k.battery, where) : undefined;
        const p = pvOf(k.pv, where);
        const shed = caps.relays.filter((x) => x.role === 'shed');
        if (k.exportPerPhase && caps.grid && !caps.grid.perPhase)
          problems.push(`${where}: exportPerPhase needs the grid meter read per phase (perPhase: true)`);
        config = {
          ...base,
          grid: grid(where),
          battery: b,
          pv: p,
          shed,
          ev: caps.evChargers,
          marginW: k.marginW,
          exportPerPhase: k.exportPerPhase,
          exportPhaseLimitW: k.exportPhaseLimitW,
          shedAfterMs: k.shedAfterMs,
          restoreAfterMs: k.restoreAfterMs,
          restoreMarginW: k.restoreMarginW,
          criticality,
        };
        assets = [b?.component, p?.component, ...shed.map((x) => x.component), ...caps.evChargers.map((x) => x.component)].filter((x): x is string => !!x);
        break;
      }
    }
    controllers.push({ id: k.id, kind: k.kind, criticality, config: strip(config), assets, start: kind?.start ?? {} });
  });
  for (const x of o.extra ?? []) {
    const b = x.battery ? battery(x.battery, `test controller ${x.id}`) : undefined;
    controllers.push({
      id: x.id,
      kind: x.kind,
      criticality: x.criticality ?? o.extraKinds?.get(x.kind) ?? 'optimisation',
      config: strip({ id: x.id, battery: b, grid: caps.grid, maxAgeMs: c.maxAgeMs, ...x.config }),
      assets: b ? [b.component] : [],
      start: {},
    });
  }
  const batteries = c.safety.batteries.flatMap((l) => {
    const b = caps.batteries.find((x) => x.component === l.component);
    return b ? [{ ...l, battery: b }] : [];
  });
  // A battery without configured limits still gets its rating, a 10-100 % SoC window and a ramp.
  for (const b of caps.batteries)
    if (!batteries.some((l) => l.battery.component === b.component))
      batteries.push({ component: b.component, battery: b, socMinPct: 10, socMaxPct: 100, rampWPerS: 20_000 });
  const safety: SafetyConfig = {
    grid: caps.grid,
    batteries,
    pv: caps.pv.map((pv) => ({ pv, ...(c.safety.pvRampWPerS ? { rampWPerS: c.safety.pvRampWPerS } : {}) })),
    generators: caps.generators,
    evChargers: caps.evChargers,
    exportLimitW: c.safety.exportLimitW,
    ...(c.emergencyStop ? { eStopChannel: E_STOP_CHANNEL, eStopFailSafe: c.emergencyStop.failSafe } : {}),
    maxAgeMs: c.maxAgeMs,
  };
  const autonomy = new Map<string, AutonomyLevel>(c.autonomy.map((a) => [autonomyKey(a.capability, a.asset), a.level]));
  const relayMeters = new Map(c.shedding.map((s) => [`relay${s.meter}`, s.meter]));
  if (problems.length) return { ok: false, problems };
  return { ok: true, plan: { caps, controllers, safety, autonomy, relayMeters } };
}

/** Drops undefined fields (structured clone keeps them, the pure controllers read `?? default`). */
function strip(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** What the resolver takes when nobody asks: battery idle, PV at its rating, relays closed, generator as it is, EV at its rating. */
export function neutralOf(caps: SiteCapabilities, target: string, measured: (addr: string) => number | undefined): number {
  const [component, channel = ''] = target.split('/') as [string, string?];
  const pv = caps.pv.find((p) => p.component === component);
  if (pv && channel.startsWith('ActivePowerLimit')) return channel === 'ActivePowerLimit' ? pv.ratedW : pv.ratedW / pv.phases;
  // Nobody asks: the charger charges as the car wants, up to its rating (as without the edge cycle).
  const ev = caps.evChargers.find((e) => e.component === component);
  if (ev && channel === 'SetChargeLimit') return ev.maxW;
  if (channel === 'SetClosed') return 1;
  if (channel === 'SetRunning') return measured(`${component}/Running`) ?? 0;
  return 0;
}

export { PHASES };
