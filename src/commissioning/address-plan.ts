import type { CommissioningConfig } from './commissioning-config.js';

/**
 * The Modbus address plan, as pure functions over the configured ranges and the addresses already
 * taken. Rules from the pre-commissioning guide: single-phase and three-phase meters have their own
 * ranges, address 1 (the factory default) is never assigned, and no two meters share an address on
 * one bus of one site.
 */
export type Phases = 1 | 3;
export type AddressRanges = CommissioningConfig['addressPlan'];

/** Where an address must be unique: one RS-485 bus of one site. */
export interface BusSlot {
  readonly site: string;
  readonly bus: string;
}

export interface UsedAddress extends BusSlot {
  readonly address: number;
  /** Who holds it, for messages, e.g. "configured meter floor1 (id 2)". */
  readonly by: string;
  /** Set for inventory meters, so a meter's own address (or an import file's rows) can be left out. */
  readonly serial?: string;
}

/** `taken` conflicts with another meter; the other codes are bad input whatever else is on the bus. */
export type AddressRefusal = 'not-an-address' | 'reserved' | 'out-of-range' | 'taken';
export type AddressCheck = { readonly ok: true } | { readonly ok: false; readonly code: AddressRefusal; readonly reason: string };

export interface CheckOptions {
  /** Holders to disregard, e.g. the meter being re-checked. */
  readonly ignore?: (u: UsedAddress) => boolean;
  /** Holders not (yet) in the used list, e.g. earlier rows of an import file. */
  readonly extra?: readonly UsedAddress[];
}

export const FACTORY_ADDRESS = 1;

export const rangeFor = (ranges: AddressRanges, phases: Phases): { readonly min: number; readonly max: number } =>
  phases === 1 ? ranges.singlePhase : ranges.threePhase;

const kind = (phases: Phases): string => (phases === 1 ? 'single-phase' : 'three-phase');

// Site names are typed by people; bus ids come from the config and are exact.
export const sameSite = (a: string, b: string): boolean => a.trim().toLowerCase() === b.trim().toLowerCase();
export const sameSlot = (a: BusSlot, b: BusSlot): boolean => sameSite(a.site, b.site) && a.bus === b.bus;

const holdersIn = (used: readonly UsedAddress[], slot: BusSlot, opts: CheckOptions): UsedAddress[] =>
  [...used, ...(opts.extra ?? [])].filter((u) => sameSlot(u, slot) && !opts.ignore?.(u));

/** The lowest free address of the meter's range on that bus, or null when the range is full. */
export function suggestAddress(ranges: AddressRanges, used: readonly UsedAddress[], slot: BusSlot, phases: Phases, opts: CheckOptions = {}): number | null {
  const taken = new Set(holdersIn(used, slot, opts).map((u) => u.address));
  const { min, max } = rangeFor(ranges, phases);
  for (let a = Math.max(min, FACTORY_ADDRESS + 1); a <= max; a++) if (!taken.has(a)) return a;
  return null;
}

/** Whether `address` may be given to a meter with `phases` on that bus; if not, why and what to use instead. */
export function checkAddress(
  ranges: AddressRanges,
  used: readonly UsedAddress[],
  slot: BusSlot,
  phases: Phases,
  address: number,
  opts: CheckOptions = {},
): AddressCheck {
  const { min, max } = rangeFor(ranges, phases);
  const allowed = `a ${kind(phases)} meter uses ${min}-${max}`;
  if (!Number.isInteger(address) || address < 1 || address > 247)
    return { ok: false, code: 'not-an-address', reason: `address ${address} is not a Modbus address; ${allowed}` };
  if (address === FACTORY_ADDRESS)
    return { ok: false, code: 'reserved', reason: `address 1 is the factory default of every new meter and is never assigned; ${allowed}` };
  if (address < min || address > max) return { ok: false, code: 'out-of-range', reason: `address ${address} is outside the ${kind(phases)} range; ${allowed}` };
  const holder = holdersIn(used, slot, opts).find((u) => u.address === address);
  if (!holder) return { ok: true };
  const next = suggestAddress(ranges, used, slot, phases, opts);
  const hint = next === null ? `no ${kind(phases)} address is free on this bus` : `the next free one is ${next}`;
  return { ok: false, code: 'taken', reason: `address ${address} is already used on bus ${slot.bus} of ${slot.site || '(no site)'} by ${holder.by}; ${hint}` };
}

/** The plan bound to a live list of used addresses: what the inventory and the HTTP API call. */
export interface AddressPlan {
  suggest(slot: BusSlot, phases: Phases, opts?: CheckOptions): number | null;
  check(slot: BusSlot, phases: Phases, address: number, opts?: CheckOptions): AddressCheck;
}

export function addressPlan(ranges: AddressRanges, used: () => readonly UsedAddress[]): AddressPlan {
  return {
    suggest: (slot, phases, opts) => suggestAddress(ranges, used(), slot, phases, opts),
    check: (slot, phases, address, opts) => checkAddress(ranges, used(), slot, phases, address, opts),
  };
}
