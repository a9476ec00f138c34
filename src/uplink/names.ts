import { channelDef, type ChannelUnit } from '../channels/catalogue.js';

/**
 * How a channel appears in SenML: its record name (an OBIS code for meter values that have one,
 * otherwise our channel name) and its SenML unit (RFC 8428 registry, RFC 8798 additions).
 */

/**
 * OBIS codes (IEC 62056-61, electricity "1-0:", value group D 7 = instantaneous, 8 = register) for the
 * meter channels that have an exact equivalent (docs/uplink.md). Our ActivePower is signed (positive =
 * import), which is OBIS C=16 (|+A| - |-A|), per phase C=36/56/76, not 1.7.0 (import only, never negative).
 */
export const OBIS: Readonly<Record<string, string>> = {
  ActivePower: '1-0:16.7.0',
  ActivePower_L1: '1-0:36.7.0',
  ActivePower_L2: '1-0:56.7.0',
  ActivePower_L3: '1-0:76.7.0',
  Voltage_L1: '1-0:32.7.0',
  Voltage_L2: '1-0:52.7.0',
  Voltage_L3: '1-0:72.7.0',
  Current_L1: '1-0:31.7.0',
  Current_L2: '1-0:51.7.0',
  Current_L3: '1-0:71.7.0',
  PowerFactor: '1-0:13.7.0',
  PowerFactor_L1: '1-0:33.7.0',
  PowerFactor_L2: '1-0:53.7.0',
  PowerFactor_L3: '1-0:73.7.0',
  Frequency: '1-0:14.7.0',
  EnergyImport: '1-0:1.8.0',
  EnergyExport: '1-0:2.8.0',
  ReactiveEnergyImport: '1-0:3.8.0',
  ReactiveEnergyExport: '1-0:4.8.0',
};

const OBIS_TO_CHANNEL = new Map(Object.entries(OBIS).map(([c, o]) => [o, c]));

/** The channel an OBIS record name stands for (or the name itself when it is a channel name). */
export function channelOfName(n: string): string {
  return OBIS_TO_CHANNEL.get(n) ?? n;
}

export type EnergyUnit = 'kWh' | 'Wh' | 'J';

/**
 * SenML units of our channel units. W, V, A, Hz, J, Cel, % and "/" are RFC 8428 units; VA, var are
 * RFC 8798 primary units; kWh, Wh and kvarh are RFC 8798 secondary units (Wh = 3600 J). "%EL" is the
 * registered unit for a battery's remaining energy, used for Soc. Hz/s has no registered unit: the
 * record carries none (its meaning is in its name).
 */
const UNIT_MAP: Readonly<Record<ChannelUnit, string | undefined>> = {
  W: 'W',
  var: 'var',
  VA: 'VA',
  V: 'V',
  A: 'A',
  Hz: 'Hz',
  'Hz/s': undefined,
  kWh: 'kWh',
  kvarh: 'kvarh',
  '%': '%',
  Wh: 'Wh',
  '°C': 'Cel',
  '': undefined,
};

export interface SenmlValue {
  readonly unit: string | undefined;
  readonly value: number;
}

/** Unit and value of one channel reading in SenML, converting energy to the configured unit. */
export function senmlValue(channel: string, value: number, energyUnit: EnergyUnit): SenmlValue {
  const def = channelDef(channel);
  if (channel === 'Soc') return { unit: '%EL', value };
  if (/^PowerFactor(_L[123])?$/.test(channel)) return { unit: '/', value };
  const unit = def ? UNIT_MAP[def.unit] : undefined;
  if (unit === 'kWh' || unit === 'Wh') {
    if (unit === energyUnit) return { unit, value };
    const wh = unit === 'kWh' ? value * 1000 : value;
    if (energyUnit === 'J') return { unit: 'J', value: wh * 3600 };
    if (energyUnit === 'Wh') return { unit: 'Wh', value: wh };
    return { unit: 'kWh', value: wh / 1000 };
  }
  if (unit === 'kvarh' && energyUnit !== 'kWh') {
    // varh and vars: RFC 8798 (secondary and primary); 1 varh = 3600 vars.
    return energyUnit === 'J' ? { unit: 'vars', value: value * 3_600_000 } : { unit: 'varh', value: value * 1000 };
  }
  return { unit, value };
}

/** The SenML record name of a channel: its OBIS code when `obis` and it has one, else the channel name. */
export function recordName(channel: string, obis: boolean): string {
  return (obis ? OBIS[channel] : undefined) ?? channel;
}

/** Counters keep float64 in the queue (kWh resolution); instantaneous values are float32 like the store. */
export function isCounter(channel: string): boolean {
  return channelDef(channel)?.counter === true || channel === 'Capacity';
}
