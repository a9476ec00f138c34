import type { DeviceProfile } from '../drivers/profile-schema.js';
import { EXCEPTION, refuse } from './device.js';
import type { EnergySystem, InverterMode } from './energy-system.js';
import { ProfileDevice } from './profile-device.js';
import type { SiteModel } from './site-model.js';
import { PHASES, type Phase } from './site-plan.js';

/**
 * The simulated site's inverter and generator as Modbus devices, their register images built from the
 * same profiles the drivers read (profiles/storage): the SRNE hybrid (modes and caps, no setpoint), the
 * generic ESS (power setpoint, total and per phase, and PV curtailment) and a generator controller.
 */
export interface EnergyDevices {
  readonly inverter: ProfileDevice;
  readonly generator?: ProfileDevice;
}

/** SRNE machine-state codes per family (docs/devices.md#machine-states). */
const SRNE_STATE: Record<'11' | '4', Record<InverterMode, number>> = {
  '11': { standby: 1, line: 4, inverter: 5, island: 5, shutdown: 9 },
  '4': { standby: 1, line: 2, inverter: 3, island: 3, shutdown: 1 },
};
const GENERIC_STATE: Record<InverterMode, number> = { standby: 1, line: 2, inverter: 2, island: 5, shutdown: 0 };

const round = (x: number): number => Math.round(x);

function commonEss(model: SiteModel, e: EnergySystem): Record<string, number> {
  const s = e.snapshot();
  const st = model.phaseFlows();
  const f = model.meterValues(model.mainId)?.Frequency ?? 50;
  const out: Record<string, number> = {
    BatteryVoltage: s.batteryVoltage,
    BatteryCurrent: s.batteryCurrent,
    BatteryTemperature: s.batteryTempC,
    Frequency: s.livePhases.size > 0 ? f : 0,
  };
  for (const ph of PHASES) {
    out[`Voltage_${ph}`] = s.livePhases.has(ph) && e.spec.inverter.phases.includes(ph) ? (model.meterValues(model.mainId)?.[`Voltage_${ph}`] ?? 0) : 0;
    out[`load/ActivePower_${ph}`] = Math.max(0, st[ph].mainW + s.pvW[ph] + s.essW[ph] + s.genW[ph]);
    out[`grid/ActivePower_${ph}`] = st[ph].mainW;
  }
  return out;
}

export function srneValues(model: SiteModel, e: EnergySystem, family: '11' | '4'): Record<string, number> {
  const s = e.snapshot();
  const phases = e.spec.inverter.phases;
  const on = (ph: Phase): boolean => phases.includes(ph);
  const out = commonEss(model, e);
  // Only the phases the inverter has: its load and grid CTs see nothing else.
  for (const ph of PHASES) if (!on(ph)) out[`load/ActivePower_${ph}`] = out[`grid/ActivePower_${ph}`] = 0;
  Object.assign(out, {
    Soc: round(s.soc * 100),
    'pv/ActivePower': round(PHASES.reduce((x, ph) => x + s.pvW[ph], 0)),
    FaultCode: 0,
    FaultCode2: 0,
    FaultCode3: 0,
    FaultCode4: 0,
    EssState: SRNE_STATE[family][s.mode],
    OutputPriority: e.srne.outputPriority,
    ChargerPriority: e.srne.chargerPriority,
    MaxChargeCurrent: e.srne.maxChargeA,
    MaxAcChargeCurrent: e.srne.maxAcChargeA,
    SocSwitchToGrid: e.srne.socSwitchToGrid,
    SocSwitchToBattery: e.srne.socSwitchToBattery,
    SocDischargeCutoff: e.srne.socDischargeCutoff,
  });
  return out;
}

export function genericEssValues(model: SiteModel, e: EnergySystem): Record<string, number> {
  const s = e.snapshot();
  const out = commonEss(model, e);
  const ess = PHASES.reduce((x, ph) => x + s.essW[ph], 0);
  const pv = PHASES.reduce((x, ph) => x + s.pvW[ph], 0);
  Object.assign(out, {
    Soc: s.soc * 100,
    EssState: s.eStop ? 4 : GENERIC_STATE[s.mode],
    FaultCode: 0,
    ActivePower: ess,
    AllowedChargePower: s.allowedChargeW,
    AllowedDischargePower: s.allowedDischargeW,
    Capacity: e.spec.battery.capacityWh,
    'pv/ActivePower': pv,
    'pv/ActivePowerLimit': Number.isFinite(e.pvLimitW) ? e.pvLimitW : 100_000,
    SetActivePower: PHASES.reduce((x, ph) => x + e.setpointW[ph], 0),
  });
  for (const ph of PHASES) {
    out[`ActivePower_${ph}`] = s.essW[ph];
    out[`pv/ActivePower_${ph}`] = s.pvW[ph];
    out[`SetActivePower_${ph}`] = e.setpointW[ph];
  }
  return out;
}

export function genValues(model: SiteModel, e: EnergySystem): Record<string, number> {
  const s = e.snapshot();
  const out: Record<string, number> = {
    Running: s.genRunning ? 1 : 0,
    ActivePower: PHASES.reduce((x, ph) => x + s.genW[ph], 0),
    Frequency: s.genRunning ? (model.meterValues(model.mainId)?.Frequency ?? 50) : 0,
  };
  for (const ph of PHASES) out[`ActivePower_${ph}`] = s.genW[ph];
  return out;
}

const SRNE_SETTING: Record<string, keyof EnergySystem['srne']> = {
  OutputPriority: 'outputPriority',
  ChargerPriority: 'chargerPriority',
  MaxChargeCurrent: 'maxChargeA',
  MaxAcChargeCurrent: 'maxAcChargeA',
  SocSwitchToGrid: 'socSwitchToGrid',
  SocSwitchToBattery: 'socSwitchToBattery',
  SocDischargeCutoff: 'socDischargeCutoff',
};

export interface EnergyDeviceOptions {
  readonly inverterAddress: number;
  readonly generatorAddress?: number;
  /** SRNE model family: its variant in the profile decides the machine-state table. Default HF. */
  readonly srneVariant?: string;
}

/** Builds the devices for a site model that has an energy system. */
export function energyDevices(model: SiteModel, profiles: ReadonlyMap<string, DeviceProfile>, o: EnergyDeviceOptions): EnergyDevices {
  const e = model.energy;
  if (!e) throw new Error('energyDevices: the site model has no energy system');
  const need = (m: string): DeviceProfile => {
    const p = profiles.get(m);
    if (!p) throw new Error(`the simulator needs the ${m} profile; loaded: ${[...profiles.keys()].join(', ') || 'none'}`);
    return p;
  };
  let inverter: ProfileDevice;
  if (e.spec.inverter.protocol === 'srne') {
    const profile = need('SRNE-HYBRID');
    const variant = o.srneVariant ?? Object.keys(profile.variants ?? {})[0] ?? 'HF';
    const table = profile.variants?.[variant]?.enums.machineState;
    if (table === undefined) throw new Error(`SRNE variant "${variant}" is not in the profile; known: ${Object.keys(profile.variants ?? {}).join(', ')}`);
    const family = table === 'machineState4' ? '4' : '11';
    inverter = new ProfileDevice({
      profile,
      address: o.inverterAddress,
      values: () => srneValues(model, e, family),
      onWrite: (channel, value) => {
        const key = SRNE_SETTING[channel];
        if (!key) return refuse(EXCEPTION.illegalDataAddress);
        e.srne[key] = value;
        return undefined;
      },
    });
  } else {
    inverter = new ProfileDevice({
      profile: need('GENERIC-ESS'),
      address: o.inverterAddress,
      values: () => genericEssValues(model, e),
      onWrite: (channel, value) => {
        if (channel === 'SetActivePower') e.setTotalSetpoint(value);
        else if (channel.startsWith('SetActivePower_')) e.setPhaseSetpoint(channel.slice(-2) as Phase, value);
        else if (channel === 'pv/ActivePowerLimit') e.pvLimitW = value;
        else return refuse(EXCEPTION.illegalDataAddress);
        return undefined;
      },
    });
  }
  const generator =
    e.spec.generator && o.generatorAddress !== undefined
      ? new ProfileDevice({
          profile: need('GENERIC-GENSET'),
          address: o.generatorAddress,
          values: () => genValues(model, e),
          onWrite: (channel, value) => {
            if (channel !== 'Running') return refuse(EXCEPTION.illegalDataAddress);
            e.setGeneratorRunning(value >= 1, model.timeMs);
            return undefined;
          },
        })
      : undefined;
  return { inverter, generator };
}
