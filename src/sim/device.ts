/** What a simulated bus needs from a device: its current address and a register table. */

/** Modbus exception codes (Modbus application protocol V1.1b, section 7). */
export const EXCEPTION = {
  illegalFunction: 0x01,
  illegalDataAddress: 0x02,
  illegalDataValue: 0x03,
  deviceFailure: 0x04,
  /** Gateway path unavailable; SRNE inverters answer it for a read of more than 32 registers (SRNE protocol V1.96). */
  gatewayPathUnavailable: 0x0a,
  gatewayTargetFailed: 0x0b,
} as const;
export type ExceptionCode = (typeof EXCEPTION)[keyof typeof EXCEPTION];

export interface ModbusRefusal {
  readonly exception: ExceptionCode;
}

export const refuse = (exception: ExceptionCode): ModbusRefusal => ({ exception });

export const isRefusal = (x: unknown): x is ModbusRefusal => typeof x === 'object' && x !== null && 'exception' in x;

export interface RegisterDevice {
  /** The address the device answers on now; writing its address register changes it. */
  readonly address: number;
  /** FC03 (holding) or FC04 (input) read of `count` 16-bit words. */
  readRegisters(functionCode: 3 | 4, start: number, count: number): number[] | ModbusRefusal;
  /** FC06/FC16 write; all or nothing. */
  writeRegisters(start: number, words: readonly number[]): ModbusRefusal | undefined;
  /** FC01 read of `count` coils; devices without coils leave these out (exception 01). */
  readCoils?(start: number, count: number): boolean[] | ModbusRefusal;
  /** FC05 with the raw value (0xFF00, 0x0000, or a vendor value such as 0x5500 toggle). */
  writeSingleCoil?(coil: number, value: number): ModbusRefusal | undefined;
  /** FC15 write; all or nothing. */
  writeCoils?(start: number, states: readonly boolean[]): ModbusRefusal | undefined;
}
