import { createRequire } from 'node:module';
import type { ModbusRTU } from 'modbus-serial/ModbusRTU.js';

export type ModbusClient = ModbusRTU;

type ClientConstructor = new () => ModbusClient;

// modbus-serial is CommonJS and its module value is the constructor itself (its typings put the class
// one `.default` deeper under NodeNext). It is loaded with require: through `import`, Node 20 scans its
// source for named exports and runs its own requires through the ESM loader, which cost about 30 ms of
// CPU at every start of `mgos read` (measured with `node --cpu-prof`).
export const ModbusClientClass = createRequire(import.meta.url)('modbus-serial') as ClientConstructor;
