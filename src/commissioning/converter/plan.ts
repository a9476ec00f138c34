import { isSerial } from '../../dlt645/address.js';
import type { DeviceProfile } from '../../drivers/profile-schema.js';
import { DTSU666, FACTORY_MODBUS_ADDRESS, type MeterModel } from '../../dlt645/converter-registers.js';

/**
 * What the converter is asked to do with one meter: a row of the inventory (kept by another module;
 * this is the shape it hands over). The address register comes from the model's device profile, the
 * one place that knows registers, and every configuration write goes through assertSafeWrite.
 */
export interface MeterPlan {
  /** The 12-digit serial (DL/T645 station address) the inventory expects on the bench, if known. */
  readonly serial?: string;
  readonly model: MeterModel;
  /** Target Modbus address. */
  readonly address: number;
}

/** The converter will not do this; nothing was written. */
export class ConverterRefusal extends Error {
  override name = 'ConverterRefusal';
}

const h4 = (r: number): string => `0x${r.toString(16).toUpperCase().padStart(4, '0')}`;

/** 0x0006 on a DTSU666 is the CT ratio (IrAt, user manual ZTY0.464.1448): an address written there corrupts every reading. */
export function assertSafeWrite(model: MeterModel, register: number): void {
  if (model === 'DTSU666' && register === DTSU666.ctRatio) {
    throw new ConverterRefusal(
      `refusing to write register 0x0006 on a DTSU666: there it is IrAt, the CT ratio, not the address; writing it would scale every current, power and energy reading. The DTSU666 address register is ${h4(DTSU666.address)}.`,
    );
  }
}

/** The model's address register from its profile, refused if writing it would be unsafe. */
export function addressRegisterOf(model: MeterModel, profiles: ReadonlyMap<string, DeviceProfile>): number {
  const profile = profiles.get(model);
  if (!profile) throw new ConverterRefusal(`no device profile for ${model}; loaded: ${[...profiles.keys()].join(', ') || 'none'}`);
  if (profile.addressRegister === undefined) throw new ConverterRefusal(`the ${model} profile has no addressRegister; cannot change its address`);
  assertSafeWrite(model, profile.addressRegister);
  return profile.addressRegister;
}

export function checkAddress(address: number): void {
  if (!Number.isInteger(address) || address < 1 || address > 247) throw new ConverterRefusal(`Modbus address must be an integer 1-247; got ${address}`);
  if (address === FACTORY_MODBUS_ADDRESS) {
    throw new ConverterRefusal(
      'target address 1 is the factory default; the pre-commissioning guide never assigns it (it collides with every unconverted meter)',
    );
  }
}

/** Validates a plan before anything is sent; returns a one-line description of the write it implies. */
export function checkPlan(plan: MeterPlan, profiles: ReadonlyMap<string, DeviceProfile>): string {
  if (plan.serial !== undefined && !isSerial(plan.serial))
    throw new ConverterRefusal(`serial must be exactly 12 digits (the DL/T645 station address); got "${plan.serial}"`);
  checkAddress(plan.address);
  const register = addressRegisterOf(plan.model, profiles);
  return `${plan.model}${plan.serial ? ` ${plan.serial}` : ''}: write ${plan.address} to ${h4(register)} at Modbus address ${FACTORY_MODBUS_ADDRESS}`;
}
