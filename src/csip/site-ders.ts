import type { ChannelValue } from '../channels/value.js';
import type { RawValue } from '../sunspec/codec.js';
import type { DerReport } from './der-reports.js';
import { PHASE_NAMES, type MeasuredPoint, type PhaseValues, type TelemetryReport } from './mirror-readings.js';
import { UTILITY_CHANNEL, UTILITY_COMPONENT } from './utility-channels.js';

/**
 * What the site reports to the utility about its DERs and its connection point (issue 11 item 4),
 * pure over a snapshot of the process image, the site's assets and the SunSpec models read:
 * - DERCapability: the nameplate (SunSpec 702, else 120, the battery's 802) where read, else the
 *   ratings configured for the asset;
 * - DERSettings: what the site applies: the configured ratings the controllers plan with, the modes the
 *   `utility-limits` controller carries out (none without it), the ramp (setGradW) the site applies (none
 *   claimed while it applies none);
 * - DERStatus: connected, available, operating and fault from fresh data, the utility's opModConnect /
 *   opModEnergize in force and the device's fault code; state of charge for storage; local emergency
 *   from the site's emergency stop;
 * - telemetry: the grid meter for the site and each DER's own channels, per phase where measured. A
 *   value missing, not GOOD or older than `maxAgeMs` is left out, never replaced by 0.
 */

/** The process image at one instant, `component/Channel` to value (the edge cycle's Snapshot has this shape). */
export interface ChannelSnapshot {
  readonly takenAt: number;
  readonly channels: ReadonlyMap<string, ChannelValue>;
}

/** An entry of `control.assets` as far as reporting needs it (structurally the site file's). */
export interface ReportedAsset {
  readonly type: string;
  readonly component: string;
  readonly ratedW?: number;
  readonly maxChargeW?: number;
  readonly maxDischargeW?: number;
}

/** A value GOOD, finite and taken within `maxAgeMs` of `now` (as the controllers judge it), else undefined. */
export function freshValue(s: ChannelSnapshot, addr: string, maxAgeMs: number): number | undefined {
  const v = s.channels.get(addr);
  if (!v || v.quality !== 'GOOD' || v.value === null || !Number.isFinite(v.value)) return undefined;
  return Math.abs(s.takenAt - v.ts) <= maxAgeMs ? v.value : undefined;
}

/** One DER of the site, from `control.assets` (pv, battery) and the SunSpec devices of `control.devices`. */
export interface SiteDer {
  readonly component: string;
  /** A PV asset the site curtails (configured rating, W). */
  readonly pv?: { readonly ratedW: number };
  /** A battery asset the site steers (configured limits, W; the safety envelope's minimum SoC, %). */
  readonly battery?: { readonly maxChargeW: number; readonly maxDischargeW: number; readonly minSocPct: number };
  /** A SunSpec device reads into this component. */
  readonly sunspec: boolean;
}

/** SunSpec models by id: their scaled values (null where not implemented). */
export type ModelValues = ReadonlyMap<number, { readonly values: Readonly<Record<string, RawValue>> }>;

export interface SiteReportInput {
  readonly snapshot: ChannelSnapshot;
  readonly ders: readonly SiteDer[];
  readonly models: (component: string) => ModelValues;
  /** The grid meter's component (`grid`), if the site has one. */
  readonly grid: string | undefined;
  /** Whether the `utility-limits` controller runs, i.e. the utility's limits are carried out. */
  readonly utilityLimits: boolean;
  readonly emergencyStop?: { readonly channel: string; readonly pressedValue: number };
  readonly maxAgeMs: number;
  /** The ramp the site applies to limit changes (setGradW, ramp.ts), or undefined while it applies none. */
  readonly setGradW?: number | undefined;
}

/** The safety envelope's minimum SoC for a battery without configured limits (control-plan.ts gives it the same). */
export const DEFAULT_MIN_SOC_PCT = 10;

/**
 * The DERs: PV and battery assets in the site file's order, then SunSpec devices not among them.
 * `minSocPct`: the safety envelope's minimum SoC per battery component (`control.safety.batteries`).
 */
export function siteDers(
  assets: readonly ReportedAsset[],
  sunspecComponents: readonly string[],
  minSocPct: ReadonlyMap<string, number> = new Map(),
): SiteDer[] {
  const ss = new Set(sunspecComponents);
  const out: SiteDer[] = [];
  for (const a of assets) {
    if (a.type === 'pv' && a.ratedW !== undefined) out.push({ component: a.component, pv: { ratedW: a.ratedW }, sunspec: ss.has(a.component) });
    else if (a.type === 'battery' && a.maxChargeW !== undefined && a.maxDischargeW !== undefined)
      out.push({
        component: a.component,
        battery: { maxChargeW: a.maxChargeW, maxDischargeW: a.maxDischargeW, minSocPct: minSocPct.get(a.component) ?? DEFAULT_MIN_SOC_PCT },
        sunspec: ss.has(a.component),
      });
  }
  for (const c of sunspecComponents) if (!out.some((d) => d.component === c)) out.push({ component: c, sunspec: true });
  return out;
}

// DERControlType (sep.xsd) bits the site carries out; CSIP-AUS DOEModesSupportedType bits.
const MODE = { connect: 1 << 2, energize: 1 << 3, maxLimW: 1 << 20 } as const;
const DOE = { exp: 1 << 0, imp: 1 << 1, gen: 1 << 2, load: 1 << 3 } as const;
// CSIP-AUS v1.3 VPPControlType bit 0: opModStorageTargetW.
const VPP_STORAGE_TARGET = 1 << 0;
// DERType: 4 photovoltaic, 80 storage, 83 PV and storage.
const TYPE = { pv: 4, storage: 80, both: 83 } as const;
// ConnectStatusType bits and AlarmStatusType bit 7 (local emergency).
const CONNECT = { connected: 1 << 0, available: 1 << 1, operating: 1 << 2, fault: 1 << 4 } as const;
const LOCAL_EMERGENCY = 1 << 7;

const num = (m: ModelValues, id: number, point: string): number | undefined => {
  const v = m.get(id)?.values[point];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
};
const abs = (v: number | undefined): number | undefined => (v === undefined ? undefined : Math.abs(v));

/** The ratings: the device's nameplate where read, else the site file's. Undefined where nobody says. */
export function ratingsOf(der: SiteDer, m: ModelValues, capacityWh: number | undefined) {
  const ratedW = num(m, 702, 'WMaxRtg') ?? num(m, 120, 'WRtg') ?? der.pv?.ratedW ?? der.battery?.maxDischargeW;
  const storage = der.battery !== undefined || m.has(802) || (num(m, 120, 'WHRtg') ?? 0) > 0;
  const ratedVA = num(m, 702, 'VAMaxRtg') ?? num(m, 120, 'VARtg') ?? ratedW;
  return {
    ratedW,
    ratedVA,
    // Without a reactive rating, the apparent power rating bounds it.
    ratedVar: num(m, 702, 'VarMaxInjRtg') ?? num(m, 120, 'VArRtgQ1') ?? ratedVA,
    ratedVarNeg: abs(num(m, 702, 'VarMaxAbsRtg') ?? num(m, 120, 'VArRtgQ4')),
    maxChargeW: storage ? (num(m, 702, 'WChaRteMaxRtg') ?? num(m, 120, 'MaxChaRte') ?? num(m, 802, 'WChaRteMax') ?? der.battery?.maxChargeW) : undefined,
    maxDischargeW: storage
      ? (num(m, 702, 'WDisChaRteMaxRtg') ?? num(m, 120, 'MaxDisChaRte') ?? num(m, 802, 'WDisChaRteMax') ?? der.battery?.maxDischargeW)
      : undefined,
    capacityWh: storage ? (num(m, 802, 'WHRtg') ?? num(m, 120, 'WHRtg') ?? capacityWh) : undefined,
    pfOver: num(m, 702, 'PFOvrExtRtg') ?? num(m, 120, 'PFRtgQ1'),
    pfUnder: abs(num(m, 702, 'PFUndExtRtg') ?? num(m, 120, 'PFRtgQ4')),
    pvCapable: der.pv !== undefined || [101, 102, 103, 111, 112, 113, 701].some((id) => m.has(id)),
    storage,
  };
}

/** The modes the site carries out for this DER (what it could, and whether the controller runs). */
function modes(der: SiteDer, utilityLimits: boolean) {
  const pv = der.pv !== undefined;
  const bat = der.battery !== undefined;
  const supported = pv || bat ? MODE.connect | MODE.energize | (pv ? MODE.maxLimW : 0) : 0;
  const doe = (pv ? DOE.exp | DOE.gen : 0) | (bat ? DOE.exp | DOE.imp | DOE.gen | DOE.load : 0);
  // Only a battery the site steers can follow a storage target; a SunSpec-only device is not steered.
  const vpp = bat ? VPP_STORAGE_TARGET : undefined;
  return {
    supported,
    doe,
    vpp,
    enabled: utilityLimits ? supported : 0,
    doeEnabled: utilityLimits ? doe : 0,
    vppEnabled: vpp === undefined ? undefined : utilityLimits ? vpp : 0,
  };
}

/** Each DER's capability, settings and status, in `ders` order; undefined where its rating is not known yet. */
export function derReports(i: SiteReportInput): (DerReport | undefined)[] {
  const s = i.snapshot;
  const get = (addr: string): number | undefined => freshValue(s, addr, i.maxAgeMs);
  const connect = get(`${UTILITY_COMPONENT}/${UTILITY_CHANNEL.opModConnect}`) !== 0;
  const energize = get(`${UTILITY_COMPONENT}/${UTILITY_CHANNEL.opModEnergize}`) !== 0;
  const estop = i.emergencyStop ? get(i.emergencyStop.channel) === i.emergencyStop.pressedValue : false;
  return i.ders.map((der) => {
    const m = i.models(der.component);
    const c = der.component;
    const r = ratingsOf(der, m, get(`${c}/Capacity`));
    if (r.ratedW === undefined || r.ratedVA === undefined || r.ratedVar === undefined) return undefined;
    const md = modes(der, i.utilityLimits);
    const type = r.storage && r.pvCapable ? TYPE.both : r.storage ? TYPE.storage : TYPE.pv;
    const live = get(`${c}/ActivePower`) !== undefined;
    const faultCode = get(`${c}/FaultCode`);
    const error = s.channels.get(`${c}/ActivePower`)?.quality === 'ERROR';
    const connected = live && connect;
    const operating = connected && energize;
    const soc = get(`${c}/Soc`);
    // The ramp applied (hundredths of a percent per second), never claimed while none is carried out.
    const gradW = i.setGradW;
    return {
      capability: {
        modesSupported: md.supported,
        doeModesSupported: md.doe,
        ...(md.vpp !== undefined ? { vppModesSupported: md.vpp } : {}),
        type,
        rtgMaxW: r.ratedW,
        rtgMaxVA: r.ratedVA,
        rtgMaxVar: r.ratedVar,
        ...(r.ratedVarNeg !== undefined ? { rtgMaxVarNeg: r.ratedVarNeg } : {}),
        ...(r.maxChargeW !== undefined ? { rtgMaxChargeRateW: r.maxChargeW } : {}),
        ...(r.maxDischargeW !== undefined ? { rtgMaxDischargeRateW: r.maxDischargeW } : {}),
        ...(r.capacityWh !== undefined ? { rtgMaxWh: r.capacityWh } : {}),
        ...(r.pfOver !== undefined ? { rtgMinPFOverExcited: r.pfOver } : {}),
        ...(r.pfUnder !== undefined ? { rtgMinPFUnderExcited: r.pfUnder } : {}),
      },
      settings: {
        modesEnabled: md.enabled,
        doeModesEnabled: md.doeEnabled,
        ...(md.vppEnabled !== undefined ? { vppModesEnabled: md.vppEnabled } : {}),
        // The energy the safety envelope keeps: no discharge at or below the minimum SoC.
        ...(der.battery && r.capacityWh !== undefined ? { setMinWh: (der.battery.minSocPct / 100) * r.capacityWh } : {}),
        ...(gradW !== undefined ? { setGradW: gradW } : {}),
        // The site's own caps (what its controllers plan with), else the device's settings, else the rating.
        setMaxW: der.pv?.ratedW ?? der.battery?.maxDischargeW ?? num(m, 702, 'WMax') ?? num(m, 121, 'WMax') ?? r.ratedW,
        setMaxVA: num(m, 702, 'VAMax') ?? num(m, 121, 'VAMax') ?? r.ratedVA,
        setMaxVar: num(m, 702, 'VarMaxInj') ?? r.ratedVar,
        ...(r.ratedVarNeg !== undefined ? { setMaxVarNeg: abs(num(m, 702, 'VarMaxAbs')) ?? r.ratedVarNeg } : {}),
        ...(r.maxChargeW !== undefined ? { setMaxChargeRateW: der.battery?.maxChargeW ?? num(m, 702, 'WChaRteMax') ?? r.maxChargeW } : {}),
        ...(r.maxDischargeW !== undefined ? { setMaxDischargeRateW: der.battery?.maxDischargeW ?? num(m, 702, 'WDisChaRteMax') ?? r.maxDischargeW } : {}),
        ...(r.capacityWh !== undefined ? { setMaxWh: r.capacityWh } : {}),
        ...(r.pfOver !== undefined ? { setMinPFOverExcited: r.pfOver } : {}),
        ...(r.pfUnder !== undefined ? { setMinPFUnderExcited: r.pfUnder } : {}),
      },
      status: {
        genConnectStatus:
          (connected ? CONNECT.connected : 0) |
          (live ? CONNECT.available : 0) |
          (operating ? CONNECT.operating : 0) |
          ((faultCode !== undefined && faultCode !== 0) || error ? CONNECT.fault : 0),
        // 2 operational, 1 off (read, but disconnected or de-energised), 0 not known.
        operationalModeStatus: operating ? 2 : live ? 1 : 0,
        alarmStatus: estop ? LOCAL_EMERGENCY : 0,
        ...(soc !== undefined && r.storage ? { stateOfChargePct: soc } : {}),
      },
    };
  });
}

/** A point's fresh values: totals and each phase where measured. */
function pointOf(i: SiteReportInput, component: string, withStored: boolean): MeasuredPoint {
  const s = i.snapshot;
  const get = (ch: string): number | undefined => freshValue(s, `${component}/${ch}`, i.maxAgeMs);
  const phases: Partial<Record<(typeof PHASE_NAMES)[number], PhaseValues>> = {};
  for (const ph of PHASE_NAMES) {
    const v = { activePowerW: get(`ActivePower_${ph}`), reactivePowerVar: get(`ReactivePower_${ph}`), voltageV: get(`Voltage_${ph}`) };
    const present = Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined)) as PhaseValues;
    if (Object.keys(present).length > 0) phases[ph] = present;
  }
  const soc = withStored ? get('Soc') : undefined;
  const capacity = withStored
    ? (get('Capacity') ?? ratingsOf(i.ders.find((d) => d.component === component) ?? { component, sunspec: false }, i.models(component), undefined).capacityWh)
    : undefined;
  const totals = {
    activePowerW: get('ActivePower'),
    reactivePowerVar: get('ReactivePower'),
    voltageV: get('Voltage'),
    storedEnergyWh: soc !== undefined && capacity !== undefined ? (soc / 100) * capacity : undefined,
  };
  const point = Object.fromEntries(Object.entries(totals).filter(([, x]) => x !== undefined)) as MeasuredPoint;
  return Object.keys(phases).length > 0 ? { ...point, phases } : point;
}

/** The site's connection point (the grid meter) and each DER, in `ders` order. */
export function telemetryReport(i: SiteReportInput): TelemetryReport {
  return {
    site: i.grid === undefined ? {} : pointOf(i, i.grid, false),
    ders: i.ders.map((d) => pointOf(i, d.component, true)),
  };
}
