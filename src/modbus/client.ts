import modbusSerial from 'modbus-serial';
import type { ModbusRTU } from 'modbus-serial/ModbusRTU.js';

export type ModbusClient = ModbusRTU;

type ClientConstructor = new () => ModbusClient;

// modbus-serial is CommonJS: under NodeNext its typings put the class one `.default` deeper than
// Node's runtime does; at runtime the default import is the constructor itself.
export const ModbusClientClass = modbusSerial as unknown as ClientConstructor;
