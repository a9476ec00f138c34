#!/usr/bin/python3
"""An independent Modbus RTU slave (Debian python3-pymodbus 3.0.0) holding a DTSU666 register image.

The image is written from the CHINT manual's raw units (V x0.1, A x0.001, W x0.1, Hz x0.01, kWh),
independently of mgos' own encoder, so that our poller is checked against a third party.
Usage: dtsu666_slave.py <serial-path> <unit-id>
"""
import struct
import sys

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.server import StartSerialServer
from pymodbus.transaction import ModbusRtuFramer

RAW = {
    0x2000: 4000.0,   # Uab 400.0 V
    0x2002: 4010.0,   # Ubc
    0x2004: 3990.0,   # Uca
    0x2006: 2302.0,   # Ua 230.2 V
    0x2008: 2310.0,   # Ub 231.0 V
    0x200A: 2295.0,   # Uc 229.5 V
    0x200C: 5000.0,   # Ia 5.000 A
    0x200E: 2500.0,   # Ib 2.500 A
    0x2010: 1250.0,   # Ic 1.250 A
    0x2012: 21000.0,  # Pt 2100.0 W
    0x2014: 11000.0,  # Pa 1100.0 W
    0x2016: 6000.0,   # Pb 600.0 W
    0x2018: 4000.0,   # Pc 400.0 W
    0x201A: -3000.0,  # Qt -300.0 var (capacitive)
    0x202A: 950.0,    # PFt 0.950
    0x2044: 4998.0,   # 49.98 Hz
    0x401E: 478.49,   # ImpEp kWh
    0x4028: 12.5,     # ExpEp kWh
}
CONFIG = {0x0000: 100, 0x0001: 701, 0x0006: 1, 0x0007: 10, 0x002C: 2, 0x002D: 3}


def image(unit):
    words = [0] * 0x4100
    for reg, value in RAW.items():
        hi, lo = struct.unpack('>HH', struct.pack('>f', value))
        words[reg], words[reg + 1] = hi, lo
    for reg, value in CONFIG.items():
        words[reg] = value
    words[0x002E] = unit
    return words


def main():
    path, unit = sys.argv[1], int(sys.argv[2])
    block = ModbusSequentialDataBlock(0, image(unit))
    # The same image answers FC03 and FC04, as the real meter does.
    slave = ModbusSlaveContext(hr=block, ir=block, zero_mode=True)
    context = ModbusServerContext(slaves={unit: slave}, single=False)
    print('ready', flush=True)
    StartSerialServer(context=context, framer=ModbusRtuFramer, port=path, baudrate=9600,
                      bytesize=8, parity='N', stopbits=2, timeout=0.05)


if __name__ == '__main__':
    main()
