import { planBlocks } from '../../drivers/block-plan.js';
import { decodeBlock } from '../../drivers/point-codec.js';
import type { DeviceProfile } from '../../drivers/profile-schema.js';
import type { ModbusBus } from '../../modbus/bus.js';
import { ModbusError } from '../../modbus/modbus-error.js';

export type ProbeResult =
  | { readonly kind: 'absent' }
  | { readonly kind: 'identified'; readonly model: string; readonly detail: string }
  | { readonly kind: 'unidentified'; readonly detail: string }
  /** Replies that fail CRC or framing: typically two meters answering on one address. */
  | { readonly kind: 'garbled'; readonly detail: string };

const PLAUSIBLE_VOLTAGE: readonly [number, number] = [80, 300];

/**
 * Asks one address who it is, at background priority so live polling keeps its cycle. A meter is
 * identified when its profile's address register holds the address asked; when several profiles
 * match (a DTSU666's CT ratio sits where a DDSU666 keeps its address), the one whose voltage reads
 * plausibly wins.
 */
export async function probeAddress(bus: ModbusBus, address: number, profiles: readonly DeviceProfile[], timeoutMs: number): Promise<ProbeResult> {
  const opts = { priority: 'background' as const, timeoutMs };
  const candidates: DeviceProfile[] = [];
  let answered = false;
  for (const p of profiles) {
    if (p.addressRegister === undefined) continue;
    try {
      const [value] = await bus.readRegisters(address, 3, p.addressRegister, 1, opts);
      answered = true;
      if (value === address) candidates.push(p);
    } catch (e) {
      const err = e instanceof ModbusError ? e : new ModbusError('frame', String(e));
      if (err.kind === 'timeout' && !answered) return { kind: 'absent' };
      if (err.kind === 'crc' || err.kind === 'frame')
        return { kind: 'garbled', detail: `replies fail their check (${err.message}): two meters may share this address` };
      if (err.kind === 'exception') answered = true;
      if (err.kind === 'disconnected') throw err;
    }
  }
  if (candidates.length === 0) return answered ? { kind: 'unidentified', detail: 'answers, but no known profile recognises it' } : { kind: 'absent' };
  if (candidates.length === 1 && candidates[0])
    return {
      kind: 'identified',
      model: candidates[0].model,
      detail: `address register 0x${(candidates[0].addressRegister ?? 0).toString(16).padStart(4, '0')} = ${address}`,
    };
  for (const p of candidates) {
    const block = planBlocks(p)[0];
    if (!block) continue;
    try {
      const words = await bus.readRegisters(address, p.functionCode, block.start, block.count, opts);
      const v = decodeBlock(block, words, { ctRatio: 1, ptRatio: 1, invert: false, wordOrder: p.wordOrder }).Voltage_L1;
      if (v !== undefined && v >= PLAUSIBLE_VOLTAGE[0] && v <= PLAUSIBLE_VOLTAGE[1])
        return { kind: 'identified', model: p.model, detail: `voltage ${v.toFixed(1)} V fits ${p.model}` };
    } catch {
      // this profile's block is not served: not this model
    }
  }
  return { kind: 'unidentified', detail: `matches ${candidates.map((c) => c.model).join(' and ')} but no voltage reads plausibly` };
}
