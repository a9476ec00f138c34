import { parseArgs } from 'node:util';
import type { ReadBlock } from '../../drivers/block-plan.js';
import type { DeviceProfile } from '../../drivers/profile-schema.js';
import type { ModbusBus } from '../../modbus/bus.js';
import { UsageError } from '../usage-error.js';

export const READ_HELP = `mgos read: read every channel of one meter once, in engineering units

  mgos read --port /dev/ttyUSB0 --address 2 --type 1phase
  mgos read --tcp 192.168.1.50:502 --address 100 --type DTSU666 --rtu-over-tcp

  --port PATH          serial port (Modbus RTU), 9600 8N2 unless --baud/--parity/--stop-bits say otherwise
  --tcp HOST:PORT      network: Modbus TCP, or RTU frames through a transparent RS-485 gateway with --rtu-over-tcp
  --address N          Modbus address (1-247)
  --type T             1phase, 3phase, DDSU666, DTSU666 or another profile model
  --fc 3|4             function code (default: the profile's)
  --baud N             serial line speed, a standard rate 1200-115200 (default 9600)
  --parity P           none, even or odd (default none)
  --stop-bits N        1 or 2 (default 2)
  --ct N --pt N        transformer ratios (default 1)
  --timeout MS         reply timeout (default 1000)
  --json               print JSON instead of a table`;

/**
 * What a read needs, loaded when it runs so that `mgos read --help` loads nothing: the site file's bus and
 * meter schemas (options are checked as a site file's are, without the rest of the site schema), the
 * profiles, the codec and the bus. The probe that names a wrong type is loaded only on that error.
 */
async function readModules() {
  const [siteConfig, options, profiles, devices, blockPlan, pointCodec, catalogue, bus, modbusError] = await Promise.all([
    import('../../config/bus-meter-schemas.js'),
    import('../read-options.js'),
    import('../../drivers/profile-cache.js'),
    import('../../site/devices.js'),
    import('../../drivers/block-plan.js'),
    import('../../drivers/point-codec.js'),
    import('../../channels/catalogue.js'),
    import('../../modbus/bus.js'),
    import('../../modbus/modbus-error.js'),
  ]);
  return { siteConfig, options, profiles, devices, blockPlan, pointCodec, catalogue, bus, modbusError };
}

type ReadModules = Awaited<ReturnType<typeof readModules>>;

const hex = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;

/**
 * The sentence for a meter that refuses the registers of the type asked (Modbus exception 2): it is
 * probably the other type, so ask it who it is (the address register, as a bus scan does) and say which
 * --type to give.
 */
async function wrongTypeMessage(
  m: ReadModules,
  bus: ModbusBus,
  address: number,
  profile: DeviceProfile,
  fc: 3 | 4,
  block: ReadBlock,
  all: ReadonlyMap<string, DeviceProfile>,
): Promise<string> {
  const aliases = m.siteConfig.METER_TYPE_ALIASES;
  const typeOf = (model: string): string => Object.keys(aliases).find((k) => aliases[k] === model) ?? model;
  const named = (model: string): string => (typeOf(model) === model ? model : `${model} (${typeOf(model)})`);
  const head = `address ${address} refused the ${named(profile.model)} registers ${hex(block.start)}-${hex(block.start + block.count - 1)} (FC ${fc}) with Modbus exception 2, illegal data address`;
  const probe = await import('../../commissioning/discovery/probe.js');
  let found: Awaited<ReturnType<typeof probe.probeAddress>>;
  try {
    found = await probe.probeAddress(bus, address, [...all.values()], bus.config.timeoutMs);
  } catch {
    found = { kind: 'unidentified', detail: 'it could not be asked' };
  }
  if (found.kind === 'identified' && found.model !== profile.model) {
    return `${head}: it is not a ${profile.model} but a ${found.model} (${found.detail}); try --type ${typeOf(found.model)}`;
  }
  if (found.kind === 'identified') {
    return `${head}, although it is a ${profile.model} (${found.detail}); check --fc: this read used ${fc}, the profile uses ${profile.functionCode}`;
  }
  const others = [...all.values()].filter((p) => p.model !== profile.model).map((p) => `--type ${typeOf(p.model)}`);
  const alternatives = others.length > 0 ? `; try ${others.join(' or ')}` : '';
  return `${head}: it is probably not a ${profile.model}${alternatives}`;
}

export async function readCommand(argv: string[]): Promise<number> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      tcp: { type: 'string' },
      'rtu-over-tcp': { type: 'boolean' },
      address: { type: 'string' },
      type: { type: 'string' },
      fc: { type: 'string' },
      ct: { type: 'string' },
      pt: { type: 'string' },
      baud: { type: 'string' },
      parity: { type: 'string' },
      'stop-bits': { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const address = Number(v.address);
  if (!Number.isInteger(address) || address < 1 || address > 247) throw new UsageError('--address: give the Modbus address, 1-247');
  if (!v.type) throw new UsageError('--type: give 1phase, 3phase or a profile model (DDSU666, DTSU666)');
  const m = await readModules();
  const schemas = { busSchema: m.siteConfig.busSchema, meterSchema: m.siteConfig.meterSchema };
  const busConfig = m.options.busFromOptions(v, schemas);
  const meter = m.options.meterFromOptions(v, address, v.type, schemas);
  const profiles = await m.profiles.loadMeterProfiles();
  let profile: DeviceProfile;
  try {
    profile = m.devices.resolveProfile(v.type, profiles);
  } catch (e) {
    throw new UsageError(`--${(e as Error).message}`);
  }
  const fc = meter.functionCode ?? profile.functionCode;
  const bus = new m.bus.ModbusBus(busConfig);
  const scaling = { ctRatio: meter.ctRatio, ptRatio: meter.ptRatio, invert: false, wordOrder: profile.wordOrder };
  const values: Record<string, number> = {};
  try {
    for (const block of m.blockPlan.planBlocks(profile)) {
      let words: number[];
      try {
        words = await bus.readRegisters(address, fc, block.start, block.count);
      } catch (e) {
        if (e instanceof m.modbusError.ModbusError && e.kind === 'exception' && e.exceptionCode === 2) {
          throw new Error(await wrongTypeMessage(m, bus, address, profile, fc, block, profiles), { cause: e });
        }
        throw e;
      }
      Object.assign(values, m.pointCodec.decodeBlock(block, words, scaling));
    }
  } finally {
    await bus.close();
  }
  if (v.json) {
    process.stdout.write(`${JSON.stringify({ address, model: profile.model, values })}\n`);
  } else {
    process.stdout.write(`${profile.model} at address ${address}\n`);
    for (const [channel, value] of Object.entries(values)) {
      process.stdout.write(`  ${channel.padEnd(22)} ${value.toFixed(3).padStart(14)} ${m.catalogue.channelDef(channel)?.unit ?? ''}\n`);
    }
  }
  return 0;
}
