import { parseArgs } from 'node:util';
import { channelDef } from '../../channels/catalogue.js';
import type { BusConfig } from '../../config/site-config.js';
import { planBlocks } from '../../drivers/block-plan.js';
import { decodeBlock } from '../../drivers/point-codec.js';
import { loadProfiles } from '../../drivers/profiles.js';
import { ModbusBus } from '../../modbus/bus.js';
import { resolveProfile } from '../../site/devices.js';
import { UsageError } from '../usage-error.js';

export const READ_HELP = `mgos read: read every channel of one meter once, in engineering units

  mgos read --port /dev/ttyUSB0 --address 2 --type 1phase
  mgos read --tcp 192.168.1.50:502 --address 100 --type DTSU666 --rtu-over-tcp

  --port PATH          serial port (Modbus RTU), 9600 8N2 unless --baud/--parity/--stop-bits say otherwise
  --tcp HOST:PORT      network: Modbus TCP, or RTU frames through a transparent RS-485 gateway with --rtu-over-tcp
  --address N          Modbus address (1-247)
  --type T             1phase, 3phase, DDSU666, DTSU666 or another profile model
  --fc 3|4             function code (default: the profile's)
  --ct N --pt N        transformer ratios (default 1)
  --timeout MS         reply timeout (default 1000)
  --json               print JSON instead of a table`;

function busFromArgs(v: Record<string, string | boolean | undefined>): BusConfig {
  const timeoutMs = Number(v.timeout ?? 1000);
  if (typeof v.port === 'string') {
    const parity = (v.parity ?? 'none') as 'none' | 'even' | 'odd';
    return { id: 'cli', transport: 'rtu', path: v.port, baudRate: Number(v.baud ?? 9600), parity, stopBits: Number(v['stop-bits'] ?? 2) as 1 | 2, dataBits: 8, timeoutMs, retries: 0 };
  }
  if (typeof v.tcp === 'string') {
    const [host, port] = v.tcp.split(':');
    if (!host || !port || !Number.isInteger(Number(port))) throw new UsageError(`--tcp: expected HOST:PORT, got "${v.tcp}"`);
    return { id: 'cli', transport: v['rtu-over-tcp'] ? 'rtu-over-tcp' : 'tcp', host, port: Number(port), baudRate: 9600, stopBits: 2, parity: 'none', timeoutMs, retries: 0 };
  }
  throw new UsageError('give --port PATH or --tcp HOST:PORT');
}

export async function readCommand(argv: string[]): Promise<number> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' }, tcp: { type: 'string' }, 'rtu-over-tcp': { type: 'boolean' },
      address: { type: 'string' }, type: { type: 'string' }, fc: { type: 'string' },
      ct: { type: 'string' }, pt: { type: 'string' }, baud: { type: 'string' }, parity: { type: 'string' },
      'stop-bits': { type: 'string' }, timeout: { type: 'string' }, json: { type: 'boolean' },
    },
  });
  const address = Number(v.address);
  if (!Number.isInteger(address) || address < 1 || address > 247) throw new UsageError('--address: give the Modbus address, 1-247');
  if (!v.type) throw new UsageError('--type: give 1phase, 3phase or a profile model (DDSU666, DTSU666)');
  const profile = resolveProfile(v.type, loadProfiles());
  const fc = v.fc === undefined ? profile.functionCode : Number(v.fc);
  if (fc !== 3 && fc !== 4) throw new UsageError('--fc: 3 (holding registers) or 4 (input registers)');
  const bus = new ModbusBus(busFromArgs(v));
  const scaling = { ctRatio: Number(v.ct ?? 1), ptRatio: Number(v.pt ?? 1), invert: false, wordOrder: profile.wordOrder };
  const values: Record<string, number> = {};
  try {
    for (const block of planBlocks(profile)) {
      Object.assign(values, decodeBlock(block, await bus.readRegisters(address, fc, block.start, block.count), scaling));
    }
  } finally {
    await bus.close();
  }
  if (v.json) {
    process.stdout.write(`${JSON.stringify({ address, model: profile.model, values })}\n`);
  } else {
    process.stdout.write(`${profile.model} at address ${address}\n`);
    for (const [channel, value] of Object.entries(values)) {
      process.stdout.write(`  ${channel.padEnd(22)} ${value.toFixed(3).padStart(14)} ${channelDef(channel)?.unit ?? ''}\n`);
    }
  }
  return 0;
}
