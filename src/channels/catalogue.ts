/**
 * The one catalogue of standard channels. Names and sign conventions follow the Grid/Site Meter
 * abstraction (docs/sign-conventions.md): active power positive = import (from grid into the site / into the
 * customer), reactive power positive = inductive (IEEE 1459 load convention).
 * A customer (sub-)meter uses the same names; a single-phase meter fills the L1 channels and totals.
 */
export type ChannelUnit = 'W' | 'var' | 'VA' | 'V' | 'A' | 'Hz' | 'Hz/s' | 'kWh' | 'kvarh' | '%' | 'Wh' | '°C' | '';

export interface ChannelDef {
  readonly name: string;
  readonly unit: ChannelUnit;
  readonly description: string;
  /** Cumulative counter (energy): intervals are built from differences, not averages. */
  readonly counter?: true;
}

const perPhase = (base: string, unit: ChannelUnit, what: string): ChannelDef[] =>
  (['L1', 'L2', 'L3'] as const).map((p) => ({ name: `${base}_${p}`, unit, description: `${what} on phase ${p}` }));

/** Channels of energy storage, PV and generators (issue 10). Battery power and current: discharge positive (docs/sign-conventions.md). */
const STORAGE_CHANNELS: readonly ChannelDef[] = [
  { name: 'Soc', unit: '%', description: 'Battery state of charge, 0-100 %.' },
  { name: 'AllowedChargePower', unit: 'W', description: 'Most power the battery may take now (>= 0), from the BMS and SoC limits.' },
  { name: 'AllowedDischargePower', unit: 'W', description: 'Most power the battery may give now (>= 0), from the BMS and SoC limits.' },
  { name: 'Capacity', unit: 'Wh', description: 'Usable battery capacity.' },
  { name: 'EssState', unit: '', description: "The device's state code; its text comes from the profile's state table for the model family." },
  { name: 'FaultCode', unit: '', description: 'First active fault code (0 = none); the text comes from the profile.' },
  { name: 'FaultCode2', unit: '', description: 'Second active fault code (0 = none).' },
  { name: 'FaultCode3', unit: '', description: 'Third active fault code (0 = none).' },
  { name: 'FaultCode4', unit: '', description: 'Fourth active fault code (0 = none).' },
  { name: 'BatteryTemperature', unit: '°C', description: 'Battery temperature.' },
  { name: 'BatteryVoltage', unit: 'V', description: 'Battery (DC) voltage.' },
  { name: 'BatteryCurrent', unit: 'A', description: 'Battery (DC) current. Positive = discharging, negative = charging.' },
  { name: 'SetActivePower', unit: 'W', description: 'Command: battery active power. Positive = discharge, negative = charge.' },
  ...perPhase('SetActivePower', 'W', 'Command: battery active power (positive = discharge)'),
  { name: 'OutputPriority', unit: '', description: 'Setting: which source carries the load (SRNE: 0 SOL, 1 UTI, 2 SBU).' },
  { name: 'ChargerPriority', unit: '', description: 'Setting: which source charges the battery (SRNE: 0 CSO, 1 CUB, 2 SNU, 3 OSO).' },
  { name: 'MaxChargeCurrent', unit: 'A', description: 'Setting: most battery charge current from all sources.' },
  { name: 'MaxAcChargeCurrent', unit: 'A', description: 'Setting: most battery charge current from the utility (AC).' },
  { name: 'SocSwitchToGrid', unit: '%', description: 'Setting: at or below this SoC the load moves to the utility (SRNE SBU).' },
  { name: 'SocSwitchToBattery', unit: '%', description: 'Setting: at or above this SoC the load moves back to the battery (SRNE SBU).' },
  { name: 'SocDischargeCutoff', unit: '%', description: 'Setting: the battery stops discharging at this SoC.' },
  { name: 'ActivePowerLimit', unit: 'W', description: 'PV: the most active power the inverter may produce (curtailment command and read-back).' },
  { name: 'Running', unit: '', description: 'Generator: 1 = running and connected, 0 = stopped.' },
];

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
  // Energy storage, PV and generator channels (issue 10). A name shared with the meters (ActivePower)
  // keeps its unit; its sign convention on each kind of component is in COMPONENT_KINDS below.
  ...STORAGE_CHANNELS,
];

const byName = new Map(CHANNELS.map((c) => [c.name, c]));

export function channelDef(name: string): ChannelDef | undefined {
  return byName.get(name);
}

export const CHANNEL_NAMES: readonly string[] = CHANNELS.map((c) => c.name);

/**
 * The kinds of component and the sign convention each gives its channels (docs/sign-conventions.md).
 * Standard component names: `grid` (the point of connection, physical or virtual), `meterN` (customer and
 * main meters), `ess0` (battery and its inverter), `pv0`, `gen0`, `load` (the site's consumption).
 */
export type ComponentKind = 'meter' | 'grid' | 'ess' | 'pv' | 'gen' | 'load';

export interface ComponentKindDef {
  readonly kind: ComponentKind;
  readonly description: string;
  /** The channels this kind may carry; descriptions here state the sign on this kind. */
  readonly channels: readonly ChannelDef[];
}

const named = (n: string, description?: string): ChannelDef => {
  const d = byName.get(n);
  if (!d) throw new Error(`catalogue: no channel ${n}`);
  return description ? { ...d, description } : d;
};

const METER_CHANNELS = CHANNELS.filter((c) => !STORAGE_CHANNELS.includes(c));
const phaseNames = (base: string): string[] => ['L1', 'L2', 'L3'].map((p) => `${base}_${p}`);
const produced = (what: string): ChannelDef[] => [
  named('ActivePower', `${what} output. Positive = producing; never negative.`),
  ...phaseNames('ActivePower').map((n) => named(n, `${what} output on phase ${n.slice(-2)} (positive = producing)`)),
];

export const COMPONENT_KINDS: Readonly<Record<ComponentKind, ComponentKindDef>> = {
  meter: { kind: 'meter', description: 'A physical meter. Active power positive = import into the site or the customer.', channels: METER_CHANNELS },
  grid: {
    kind: 'grid',
    description:
      'The point of connection to the utility, a physical meter or the virtual grid meter (loads - PV - ESS discharge - generator). Positive = import, negative = export.',
    channels: METER_CHANNELS,
  },
  ess: {
    kind: 'ess',
    description: 'Energy storage: a battery and its inverter. Active power positive = discharge (into the site), negative = charge.',
    channels: [
      named('ActivePower', 'Battery active power. Positive = discharge, negative = charge.'),
      ...phaseNames('ActivePower').map((n) => named(n, `Battery active power on phase ${n.slice(-2)} (positive = discharge)`)),
      ...STORAGE_CHANNELS.filter((c) => !['ActivePowerLimit', 'Running'].includes(c.name)),
      named('Frequency', 'Frequency at the inverter output (the island frequency when the grid is lost).'),
      ...phaseNames('Voltage').map((n) => named(n, `Inverter output voltage on phase ${n.slice(-2)}`)),
    ],
  },
  pv: { kind: 'pv', description: 'A PV inverter. Active power positive = production.', channels: [...produced('PV'), named('ActivePowerLimit')] },
  gen: {
    kind: 'gen',
    description: 'A generator. Active power positive = production.',
    channels: [...produced('Generator'), named('Running'), named('Frequency')],
  },
  load: {
    kind: 'load',
    description: "The site's consumption. Active power positive = consumed.",
    channels: [
      named('ActivePower', 'Load active power. Positive = consumed.'),
      ...phaseNames('ActivePower').map((n) => named(n, `Load active power on phase ${n.slice(-2)} (positive = consumed)`)),
    ],
  },
};

/** Standard component names of a site with storage (issue 10). */
export const STANDARD_COMPONENTS: Readonly<Record<string, ComponentKind>> = { grid: 'grid', ess0: 'ess', pv0: 'pv', gen0: 'gen', load: 'load' };

/** A channel as a kind of component defines it (with that kind's sign convention), or undefined. */
export function componentChannelDef(kind: ComponentKind, name: string): ChannelDef | undefined {
  return COMPONENT_KINDS[kind].channels.find((c) => c.name === name);
}
