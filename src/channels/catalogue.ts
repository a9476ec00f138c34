/**
 * The one catalogue of standard channels. Names and sign conventions follow the Grid/Site Meter
 * abstraction (seed 004): active power positive = import (from grid into the site / into the
 * customer), reactive power positive = inductive (IEEE 1459 load convention).
 * A customer (sub-)meter uses the same names; a single-phase meter fills the L1 channels and totals.
 */
export type ChannelUnit = 'W' | 'var' | 'VA' | 'V' | 'A' | 'Hz' | 'Hz/s' | 'kWh' | 'kvarh' | '' ;

export interface ChannelDef {
  readonly name: string;
  readonly unit: ChannelUnit;
  readonly description: string;
  /** Cumulative counter (energy): intervals are built from differences, not averages. */
  readonly counter?: true;
}

const perPhase = (base: string, unit: ChannelUnit, what: string): ChannelDef[] =>
  (['L1', 'L2', 'L3'] as const).map((p) => ({ name: `${base}_${p}`, unit, description: `${what} on phase ${p}` }));

export const CHANNELS: readonly ChannelDef[] = [
  { name: 'ActivePower', unit: 'W', description: 'Net active power, sum of phases. Positive = import, negative = export.' },
  ...perPhase('ActivePower', 'W', 'Active power (positive = import)'),
  { name: 'ReactivePower', unit: 'var', description: 'Net reactive power. Positive = inductive (lagging), negative = capacitive.' },
  ...perPhase('ReactivePower', 'var', 'Reactive power (positive = inductive)'),
  { name: 'ApparentPower', unit: 'VA', description: 'Net apparent power.' },
  { name: 'PowerFactor', unit: '', description: 'Net power factor (cos phi), as reported by the meter.' },
  ...perPhase('PowerFactor', '', 'Power factor'),
  { name: 'Frequency', unit: 'Hz', description: 'Grid frequency.' },
  { name: 'Frequency_RoCoF', unit: 'Hz/s', description: 'Rate of change of frequency.' },
  ...perPhase('Voltage', 'V', 'Line-to-neutral voltage'),
  { name: 'Voltage_L12', unit: 'V', description: 'Line-to-line voltage L1-L2' },
  { name: 'Voltage_L23', unit: 'V', description: 'Line-to-line voltage L2-L3' },
  { name: 'Voltage_L31', unit: 'V', description: 'Line-to-line voltage L3-L1' },
  ...perPhase('Current', 'A', 'Current'),
  { name: 'EnergyImport', unit: 'kWh', description: 'Accumulated imported active energy.', counter: true },
  { name: 'EnergyExport', unit: 'kWh', description: 'Accumulated exported active energy.', counter: true },
  { name: 'ReactiveEnergyImport', unit: 'kvarh', description: 'Accumulated imported reactive energy.', counter: true },
  { name: 'ReactiveEnergyExport', unit: 'kvarh', description: 'Accumulated exported reactive energy.', counter: true },
];

const byName = new Map(CHANNELS.map((c) => [c.name, c]));

export function channelDef(name: string): ChannelDef | undefined {
  return byName.get(name);
}

export const CHANNEL_NAMES: readonly string[] = CHANNELS.map((c) => c.name);
