import type { SiteConfig } from '../config/site-config.js';
import { DEFAULT_BATTERY, DEFAULT_GENERATOR, DEFAULT_INVERTER, type EnergySystemSpec } from './energy-system.js';
import type { SimulatedEnergyOptions } from './simulator.js';

type EnergyConfig = NonNullable<NonNullable<SiteConfig['sim']>['energy']>;

/** The site file's `sim.energy` section as simulator options. */
export function simulatedEnergyOptions(c: EnergyConfig): SimulatedEnergyOptions {
  const srne = c.inverter === 'srne';
  const spec: EnergySystemSpec = {
    battery: { ...DEFAULT_BATTERY, capacityWh: c.capacityWh, initialSoc: c.initialSoc, maxChargeW: c.maxPowerW, maxDischargeW: c.maxPowerW },
    inverter: {
      ...DEFAULT_INVERTER,
      protocol: c.inverter,
      phases: c.phases ?? (srne ? ['L1'] : ['L1', 'L2', 'L3']),
      responseMs: c.responseMs,
      rampWPerS: c.rampWPerS,
      ratedW: c.maxPowerW,
    },
    pv: { peakW: { L1: c.pvPeakWPerPhase, L2: c.pvPeakWPerPhase, L3: c.pvPeakWPerPhase }, cloudiness: c.cloudiness },
    ...(c.generatorW > 0 ? { generator: { ...DEFAULT_GENERATOR, ratedW: c.generatorW } } : {}),
  };
  return {
    spec,
    inverterAddress: c.inverterAddress,
    generatorAddress: c.generatorAddress,
    gridMeterAddress: c.gridMeterAddress,
    srneVariant: c.srneVariant,
    mbapPort: c.mbapPort,
  };
}
