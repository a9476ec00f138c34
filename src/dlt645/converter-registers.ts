import type { LineSettings } from '../modbus/wire-time.js';

/**
 * CHINT configuration registers the converter touches (docs/modbus.md#chint-dtsu666):
 * - DDSU666: 0x0006 = Modbus address (OpenEMS COMMUNICATION_ADDRESS).
 * - DTSU666: 0x002C Protocol, 0x002D bAud, 0x002E Addr (user manual ZTY0.464.1448 p. 12), and
 *   0x0006 = IrAt, the CT ratio: an address written there corrupts every reading.
 */
export const METER_MODELS = ['DDSU666', 'DTSU666'] as const;
export type MeterModel = (typeof METER_MODELS)[number];

export const DDSU666_ADDRESS = 0x0006;
export const DTSU666 = { ctRatio: 0x0006, protocol: 0x002c, baud: 0x002d, address: 0x002e } as const;

/** Panel names of the protocol setting; '645' is DL/T645-2007. */
export const PROTOCOLS = ['645', 'n.2', 'n.1', 'E.1', 'o.1'] as const;
export type ProtocolName = (typeof PROTOCOLS)[number];

/** 0x002C: "1: DL/T645; 2: n.2; 3: n.1; 4: E.1; 5: o.1" (DTSU666 user manual p.12). */
export const PROTOCOL_CODES: Readonly<Record<ProtocolName, number>> = { '645': 1, 'n.2': 2, 'n.1': 3, 'E.1': 4, 'o.1': 5 };

export function protocolOfCode(code: number): ProtocolName | undefined {
  return PROTOCOLS.find((p) => PROTOCOL_CODES[p] === code);
}

/** 0x002D: "0:1200 1:2400 2:4800 3:9600 4:19200". */
export const BAUD_RATES = [1200, 2400, 4800, 9600, 19200] as const;

export const baudOfCode = (code: number): number | undefined => BAUD_RATES[code];
export const codeOfBaud = (baud: number): number | undefined => {
  const i = BAUD_RATES.findIndex((b) => b === baud);
  return i < 0 ? undefined : i;
};

/** Serial framing of each Modbus protocol setting (n.2 = 8N2, E.1 = 8E1, ...); '645' runs E.1 from the factory. */
export function framingOf(p: ProtocolName): Pick<LineSettings, 'parity' | 'stopBits'> {
  switch (p) {
    case 'n.2':
      return { parity: 'none', stopBits: 2 };
    case 'n.1':
      return { parity: 'none', stopBits: 1 };
    case 'o.1':
      return { parity: 'odd', stopBits: 1 };
    case 'E.1':
    case '645':
      return { parity: 'even', stopBits: 1 };
  }
}

/** "Always use 9600 8N2" (the field team's notes, "9600 8N2 Confirmed"); the CHINT quick manual gives n.2 at 9600. */
export const MODBUS_BENCH_LINE: LineSettings = { baudRate: 9600, parity: 'none', stopBits: 2 };

/** Address 1 is the factory default after conversion; the pre-commissioning guide never assigns it. */
export const FACTORY_MODBUS_ADDRESS = 1;

export const isMeterModel = (s: string): s is MeterModel => (METER_MODELS as readonly string[]).includes(s);
