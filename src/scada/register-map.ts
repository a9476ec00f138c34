/**
 * The SCADA register map as data (docs/scada-modbus.md is written from it). Holding registers (FC03)
 * and input registers (FC04) hold the same image, zero-based addresses. 32-bit values are two
 * registers, high word first (ABCD). A value that is missing or not GOOD reads as the type's "not
 * available" pattern (0x8000 / 0x80000000 for signed, 0xFFFF / 0xFFFFFFFF for unsigned) and sets its
 * bit in `qualityFlags`.
 *
 * `source` names where a value comes from: a channel of one of the site's roles (grid meter, first
 * battery, first PV inverter, as the control section resolves them), a configured limit, or a state of
 * the server. Writable fields are applied by the server (src/scada/server.ts) through the edge cycle's
 * governance.
 */
export type RegisterType = 'int16' | 'uint16' | 'int32' | 'uint32';
export type Role = 'grid' | 'battery' | 'pv';

export type Source =
  | { readonly kind: 'channel'; readonly role: Role; readonly channel: string; readonly qualityBit: number }
  | { readonly kind: 'limit'; readonly limit: 'batteryMaxChargeW' | 'batteryMaxDischargeW' | 'pvRatedW' }
  | {
      readonly kind: 'state';
      readonly state:
        | 'mapVersion'
        | 'qualityFlags'
        | 'alarmsOpen'
        | 'alarmWorst'
        | 'eStop'
        | 'controlPresent'
        | 'batteryMode'
        | 'batterySetpoint'
        | 'pvLimitSetpoint'
        | 'overrideMinutes'
        | 'controlMode';
    };

export interface RegisterDef {
  readonly address: number;
  readonly name: string;
  readonly type: RegisterType;
  /** register value = physical value / scale (scale 0.1 = tenths). */
  readonly scale: number;
  readonly unit: string;
  readonly access: 'r' | 'rw';
  readonly source: Source;
  /** Allowed written values (physical units), for rw registers. */
  readonly range?: { readonly min: number; readonly max: number };
  readonly description: string;
}

export const MAP_VERSION = 1;

const ch = (role: Role, channel: string, qualityBit: number): Source => ({ kind: 'channel', role, channel, qualityBit });
const st = (state: Extract<Source, { kind: 'state' }>['state']): Source => ({ kind: 'state', state });

export const REGISTER_MAP: readonly RegisterDef[] = [
  {
    address: 0,
    name: 'mapVersion',
    type: 'uint16',
    scale: 1,
    unit: '',
    access: 'r',
    source: st('mapVersion'),
    description: 'version of this register map (1)',
  },
  {
    address: 1,
    name: 'gridPower',
    type: 'int32',
    scale: 1,
    unit: 'W',
    access: 'r',
    source: ch('grid', 'ActivePower', 0),
    description: 'grid connection point active power, import positive',
  },
  {
    address: 3,
    name: 'batterySoc',
    type: 'uint16',
    scale: 0.1,
    unit: '%',
    access: 'r',
    source: ch('battery', 'Soc', 1),
    description: 'battery state of charge, tenths of a percent',
  },
  {
    address: 4,
    name: 'batteryPower',
    type: 'int32',
    scale: 1,
    unit: 'W',
    access: 'r',
    source: ch('battery', 'ActivePower', 2),
    description: 'battery inverter active power, discharge positive',
  },
  { address: 6, name: 'pvPower', type: 'int32', scale: 1, unit: 'W', access: 'r', source: ch('pv', 'ActivePower', 3), description: 'PV production' },
  {
    address: 8,
    name: 'pvLimit',
    type: 'int32',
    scale: 1,
    unit: 'W',
    access: 'r',
    source: ch('pv', 'ActivePowerLimit', 4),
    description: 'PV active power limit the inverter holds now',
  },
  {
    address: 10,
    name: 'batteryMaxChargeW',
    type: 'uint32',
    scale: 1,
    unit: 'W',
    access: 'r',
    source: { kind: 'limit', limit: 'batteryMaxChargeW' },
    description: 'configured battery charge limit',
  },
  {
    address: 12,
    name: 'batteryMaxDischargeW',
    type: 'uint32',
    scale: 1,
    unit: 'W',
    access: 'r',
    source: { kind: 'limit', limit: 'batteryMaxDischargeW' },
    description: 'configured battery discharge limit',
  },
  {
    address: 14,
    name: 'pvRatedW',
    type: 'uint32',
    scale: 1,
    unit: 'W',
    access: 'r',
    source: { kind: 'limit', limit: 'pvRatedW' },
    description: 'PV inverter rating',
  },
  {
    address: 16,
    name: 'qualityFlags',
    type: 'uint16',
    scale: 1,
    unit: 'bits',
    access: 'r',
    source: st('qualityFlags'),
    description: 'bit set = value not available or not GOOD: 0 gridPower, 1 batterySoc, 2 batteryPower, 3 pvPower, 4 pvLimit',
  },
  { address: 17, name: 'alarmsOpen', type: 'uint16', scale: 1, unit: '', access: 'r', source: st('alarmsOpen'), description: 'number of open alarms' },
  {
    address: 18,
    name: 'alarmWorst',
    type: 'uint16',
    scale: 1,
    unit: '',
    access: 'r',
    source: st('alarmWorst'),
    description: 'worst open alarm: 0 none, 1 info, 2 minor, 3 major, 4 critical',
  },
  {
    address: 19,
    name: 'eStop',
    type: 'uint16',
    scale: 1,
    unit: '',
    access: 'r',
    source: st('eStop'),
    description: '1 while the emergency stop holds every asset safe',
  },
  {
    address: 20,
    name: 'controlPresent',
    type: 'uint16',
    scale: 1,
    unit: '',
    access: 'r',
    source: st('controlPresent'),
    description: '1 when the edge cycle runs (writes need it)',
  },
  {
    address: 100,
    name: 'batteryMode',
    type: 'uint16',
    scale: 1,
    unit: '',
    access: 'rw',
    range: { min: 0, max: 3 },
    source: st('batteryMode'),
    description:
      'write 0 automatic (ends an override of the battery), 1 idle, 2 charge, 3 discharge (a battery override); reads 4 while a setpoint override holds',
  },
  {
    address: 101,
    name: 'batterySetpoint',
    type: 'int32',
    scale: 1,
    unit: 'W',
    access: 'rw',
    source: st('batterySetpoint'),
    description: 'battery power override, discharge positive, within -maxCharge..maxDischarge; reads the override in force (0x80000000 = none)',
  },
  {
    address: 103,
    name: 'pvLimitSetpoint',
    type: 'int32',
    scale: 1,
    unit: 'W',
    access: 'rw',
    source: st('pvLimitSetpoint'),
    description: 'PV limit override, 0..rating; -1 ends the override; reads the override in force (0x80000000 = none)',
  },
  {
    address: 105,
    name: 'overrideMinutes',
    type: 'uint16',
    scale: 1,
    unit: 'min',
    access: 'rw',
    range: { min: 1, max: 1440 },
    source: st('overrideMinutes'),
    description: 'duration of the overrides this server writes next (per server, default from the site file)',
  },
  {
    address: 106,
    name: 'controlMode',
    type: 'uint16',
    scale: 1,
    unit: '',
    access: 'rw',
    source: st('controlMode'),
    description: "control mode: 0 = the site file's controllers, n = scada.modes[n-1]; reads 0xFFFF when the mode was changed elsewhere",
  },
];

export const WIDTH: Readonly<Record<RegisterType, 1 | 2>> = { int16: 1, uint16: 1, int32: 2, uint32: 2 };
export const NOT_AVAILABLE: Readonly<Record<RegisterType, number>> = { int16: 0x8000, uint16: 0xffff, int32: 0x80000000, uint32: 0xffffffff };

/** What each type can carry besides its "not available" pattern. */
const RANGE: Readonly<Record<RegisterType, { lo: number; hi: number }>> = {
  int16: { lo: -0x7fff, hi: 0x7fff },
  uint16: { lo: 0, hi: 0xfffe },
  int32: { lo: -0x7fffffff, hi: 0x7fffffff },
  uint32: { lo: 0, hi: 0xfffffffe },
};

/** The registers' words of one field, for a raw value (already divided by the scale), or not available. */
export function encode(def: RegisterDef, raw: number | null): number[] {
  let v: number;
  if (raw === null || !Number.isFinite(raw)) v = NOT_AVAILABLE[def.type];
  else {
    const r = Math.round(raw);
    const { lo, hi } = RANGE[def.type];
    v = Math.min(hi, Math.max(lo, r));
    if (v < 0) v += def.type === 'int16' ? 0x10000 : 0x100000000;
  }
  return WIDTH[def.type] === 1 ? [v & 0xffff] : [Math.floor(v / 0x10000) & 0xffff, v & 0xffff];
}

/** The physical value written to one field. */
export function decode(def: RegisterDef, words: readonly number[]): number {
  let v = WIDTH[def.type] === 1 ? (words[0] ?? 0) : (words[0] ?? 0) * 0x10000 + (words[1] ?? 0);
  if (def.type === 'int16' && v >= 0x8000) v -= 0x10000;
  if (def.type === 'int32' && v >= 0x80000000) v -= 0x100000000;
  return v * def.scale;
}

/** The field that starts at or covers `address`. */
export function fieldAt(address: number): { def: RegisterDef; offset: number } | null {
  for (const def of REGISTER_MAP) if (address >= def.address && address < def.address + WIDTH[def.type]) return { def, offset: address - def.address };
  return null;
}
