import { addressToSerial, isWildcard, WILDCARD_ADDRESS } from './address.js';
import { decodeEnergy, encodeEnergy } from './bcd.js';
import { buildFrame, CONTROL, functionOf, hasFollowUp, isErrorControl, type Dlt645Frame } from './frame.js';

/**
 * The DL/T645-2007 messages mgos uses: read address (0x13) and read data (0x11) with their replies.
 * A data identifier (DI) is 4 bytes, sent DI0 first (DL/T 645-2007); we write it as the
 * number DI3 DI2 DI1 DI0, so positive active total energy 00 01 00 00 is 0x00010000.
 */
export const DI = {
  /** Positive (import) active energy, total: XXXXXX.XX kWh. */
  activeImportTotal: 0x00010000,
} as const;

export const DI_BYTES = 4;

export function encodeDi(di: number): Buffer {
  const out = Buffer.alloc(DI_BYTES);
  out.writeUInt32LE(di >>> 0, 0);
  return out;
}

export const formatDi = (di: number): string => [3, 2, 1, 0].map((i) => ((di >>> (8 * i)) & 0xff).toString(16).toUpperCase().padStart(2, '0')).join(' ');

/** Error-status byte of an abnormal reply (0xD1). The reference cites 0x02; bits 0 and 2 per DL/T645-2007. */
export const ERROR_BITS: ReadonlyArray<readonly [number, string]> = [
  [0x01, 'other error'],
  [0x02, 'no such data item'],
  [0x04, 'wrong password or not authorised'],
];

export function describeErrorByte(b: number): string {
  const named = ERROR_BITS.filter(([bit]) => (b & bit) !== 0).map(([, text]) => text);
  const rest = ERROR_BITS.reduce((r, [bit]) => r & ~bit, b);
  if (rest !== 0) named.push(`error flags 0x${rest.toString(16).toUpperCase().padStart(2, '0')}`);
  return named.join(', ') || 'no error flag set';
}

// Requests (master -> meter)

export const readAddressRequest = (): Buffer => buildFrame({ address: WILDCARD_ADDRESS, control: CONTROL.readAddress, data: Buffer.alloc(0) });

export const readDataRequest = (address: Buffer, di: number): Buffer => buildFrame({ address, control: CONTROL.read, data: encodeDi(di) });

// Replies (meter -> master)

export const readAddressReply = (address: Buffer): Buffer => buildFrame({ address, control: CONTROL.readAddressReply, data: address });

export const readDataReply = (address: Buffer, di: number, payload: Buffer, followUp = false): Buffer =>
  buildFrame({ address, control: followUp ? CONTROL.readReplyMore : CONTROL.readReply, data: Buffer.concat([encodeDi(di), payload]) });

/** Abnormal reply: the request's function code with bits 7 and 6 set, and one error byte. */
export const errorReply = (address: Buffer, requestControl: number, errorByte: number): Buffer =>
  buildFrame({ address, control: 0xc0 | functionOf(requestControl), data: Buffer.from([errorByte]) });

export const energyPayload = (kWh: number): Buffer => encodeEnergy(kWh);

// Interpreting a reply frame

export type Dlt645Reply =
  | { readonly kind: 'address'; readonly serial: string }
  | { readonly kind: 'data'; readonly di: number; readonly payload: Buffer; readonly followUp: boolean }
  | { readonly kind: 'error'; readonly errorByte: number; readonly reason: string };

/** What a reply says, or a sentence saying why it is not the reply to `requestControl`. */
export function interpretReply(frame: Dlt645Frame, requestControl: number): Dlt645Reply | string {
  if (functionOf(frame.control) !== functionOf(requestControl)) {
    return `reply control 0x${frame.control.toString(16)} does not answer request 0x${requestControl.toString(16)}`;
  }
  if (isErrorControl(frame.control)) {
    const errorByte = frame.data[0] ?? 0;
    return { kind: 'error', errorByte, reason: describeErrorByte(errorByte) };
  }
  if (functionOf(requestControl) === CONTROL.readAddress) {
    const serial = addressToSerial(frame.data.length === 6 ? frame.data : frame.address);
    if (serial === undefined || isWildcard(frame.address)) return 'read-address reply does not carry a BCD address';
    return { kind: 'address', serial };
  }
  if (frame.data.length < DI_BYTES) return `read reply has ${frame.data.length} data bytes; a DI alone needs ${DI_BYTES}`;
  return { kind: 'data', di: frame.data.readUInt32LE(0), payload: frame.data.subarray(DI_BYTES), followUp: hasFollowUp(frame.control) };
}

/** kWh from the payload of a DI 00 01 00 00 reply, or a reason. */
export function energyFromPayload(payload: Buffer): number | string {
  const kWh = decodeEnergy(payload);
  return kWh ?? `energy payload ${payload.toString('hex')} is not 4 BCD bytes (XXXXXX.XX)`;
}
