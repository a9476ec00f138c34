/** Why a Modbus transaction failed, as the bus statistics and the quality model need it. */
export type FailureKind = 'timeout' | 'crc' | 'exception' | 'frame' | 'disconnected';

export class ModbusError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly exceptionCode?: number,
  ) {
    super(message);
    this.name = 'ModbusError';
  }
}

/** Maps modbus-serial's error messages onto our failure kinds. */
export function classifyClientError(e: unknown): ModbusError {
  if (e instanceof ModbusError) return e;
  const err = e as { message?: string; modbusCode?: number; name?: string; errno?: string };
  const message = err.message ?? String(e);
  if (typeof err.modbusCode === 'number') return new ModbusError('exception', message, err.modbusCode);
  if (/timed out/i.test(message) || err.name === 'TransactionTimedOutError') return new ModbusError('timeout', 'no reply (timed out)');
  if (/crc/i.test(message)) return new ModbusError('crc', 'reply failed its CRC check');
  if (/port not open|closed|ECONN|EPIPE|not open/i.test(message)) return new ModbusError('disconnected', message);
  return new ModbusError('frame', message);
}
