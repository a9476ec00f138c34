/** What a simulated bus needs from a device: its current address and a register table. */

/** Modbus exception codes (Modbus application protocol V1.1b, section 7). */
export const EXCEPTION = {
  illegalFunction: 0x01,
  illegalDataAddress: 0x02,
  illegalDataValue: 0x03,
  deviceFailure: 0x04,
  gatewayTargetFailed: 0x0b,
} as const;
export type ExceptionCode = (typeof EXCEPTION)[keyof typeof EXCEPTION];

export interface ModbusRefusal {
  readonly exception: ExceptionCode;
}

export const refuse = (exception: ExceptionCode): ModbusRefusal => ({ exception });

export const isRefusal = (x: unknown): x is ModbusRefusal =>
  typeof x === 'object' && x !== null && 'exception' in x;

export interface RegisterDevice {
  /** The address the device answers on now; writing its address register changes it. */
  readonly address: number;
  /** FC03 (holding) or FC04 (input) read of `count` 16-bit words. */
  readRegisters(functionCode: 3 | 4, start: number, count: number): number[] | ModbusRefusal;
  /** FC06/FC16 write; all or nothing. */
  writeRegisters(start: number, words: readonly number[]): ModbusRefusal | undefined;
}
