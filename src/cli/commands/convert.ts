import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ConverterRun, identifyOverDlt645 } from '../../commissioning/converter/converter.js';
import { openModbus, parseHostPort, type BenchLineSpec } from '../../commissioning/converter/line.js';
import { allowedBenchLine, BenchLineRefused, benchLinePolicyFor, DEFAULT_BENCH_POLICY } from '../../commissioning/converter/bench-line-policy.js';
import { loadSiteConfigFile } from '../../config/load-site-config.js';
import type { ConverterEvent, StepRecord } from '../../commissioning/converter/log.js';
import { identifyModel, readAddressRegister, requireModel, setBaud, setProtocol, writeAddress } from '../../commissioning/converter/modbus.js';
import { checkAddress } from '../../commissioning/converter/plan.js';
import { isMeterModel, PROTOCOLS, type MeterModel, type ProtocolName } from '../../dlt645/converter-registers.js';
import { DLT645_FACTORY_LINE } from '../../dlt645/link.js';
import { loadProfiles } from '../../drivers/profiles.js';
import type { LineSettings } from '../../modbus/wire-time.js';
import { UsageError } from '../usage-error.js';

export const CONVERT_HELP = `mgos convert: turn a factory-fresh CHINT meter (DL/T645) into a Modbus RTU meter with its assigned
address, on a lab bench with ONE meter on the line (the pre-commissioning "full process")

  mgos convert identify --port /dev/ttyUSB0                   serial number and energy over DL/T645
  mgos convert run --port /dev/ttyUSB0 --address 12 --model DDSU666 [--serial 200322016690]
                                                              the full process; you switch the protocol on the
                                                              front panel (password 701) and press Enter
  mgos convert set-address --port P --from 1 --to 12 --model DTSU666
  mgos convert show --port P --address 100                    model; a DTSU666's protocol and baud too
  mgos convert set-protocol --port P --address 100 --protocol n.2|n.1|E.1|o.1|645   (DTSU666, 0x002C)
  mgos convert set-baud --port P --address 100 --new-baud 19200                     (DTSU666, 0x002D)

  --port PATH          the lab USB-RS485 adapter (never the production one)
  --tcp HOST:PORT      a transparent RS-485-to-Ethernet gateway (or a simulated bench) instead of --port;
                       it must be configured in the --config site file (commissioning.bench.gateways or
                       an rtu-over-tcp bus)
  --config FILE        the site file: its bench gateways and allowed serial device prefixes
                       (default: /dev/ttyUSB*, /dev/ttyACM*, /dev/ttyS*, /dev/ttyAMA*, no gateway)
  --yes                do not wait for Enter after the front-panel step (scripted runs; the probe still retries)
  --dlt-baud B         DL/T645 baud rate (default 9600 E.1, the CHINT factory setting; converter.exe used 2400)
  --baud B --parity P --stop-bits N   Modbus framing (default 9600 none 2 = n.2)
  --timeout MS         reply timeout per request (default 1000)
  --probe-attempts N   Modbus probes at address 1 after the panel switch, 1 s apart (default 5)
  --json               print the result as JSON`;

const OPTIONS = {
  port: { type: 'string' },
  tcp: { type: 'string' },
  config: { type: 'string' },
  address: { type: 'string' },
  model: { type: 'string' },
  serial: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  protocol: { type: 'string' },
  baud: { type: 'string' },
  parity: { type: 'string' },
  'stop-bits': { type: 'string' },
  'new-baud': { type: 'string' },
  'dlt-baud': { type: 'string' },
  timeout: { type: 'string' },
  'probe-attempts': { type: 'string' },
  yes: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: true }>>['values'];

function int(v: string | undefined, name: string, fallback?: number): number {
  if (v === undefined && fallback !== undefined) return fallback;
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n < 0) throw new UsageError(`--${name}: expected a whole number${v === undefined ? '' : `, got "${v}"`}`);
  return n;
}

function modelOf(v: Values): MeterModel {
  const m = (v.model ?? '').toUpperCase();
  if (!isMeterModel(m)) throw new UsageError('--model: DDSU666 (single-phase) or DTSU666 (three-phase)');
  return m;
}

function lineOf(v: Values): BenchLineSpec {
  if ((v.port === undefined) === (v.tcp === undefined)) throw new UsageError('give --port PATH or --tcp HOST:PORT (one of them)');
  if (v.tcp !== undefined) {
    try {
      parseHostPort(v.tcp);
    } catch (e) {
      throw new UsageError(`--tcp: ${(e as Error).message}`);
    }
  }
  const parity = v.parity ?? 'none';
  if (parity !== 'none' && parity !== 'even' && parity !== 'odd') throw new UsageError('--parity: none, even or odd');
  const stopBits = int(v['stop-bits'], 'stop-bits', 2);
  if (stopBits !== 1 && stopBits !== 2) throw new UsageError('--stop-bits: 1 or 2');
  const modbusLine: LineSettings = { baudRate: int(v.baud, 'baud', 9600), parity, stopBits };
  const dlt645Line: LineSettings = { ...DLT645_FACTORY_LINE, baudRate: int(v['dlt-baud'], 'dlt-baud', DLT645_FACTORY_LINE.baudRate) };
  const spec: BenchLineSpec = { port: v.port, tcp: v.tcp, timeoutMs: int(v.timeout, 'timeout', 1000), modbusLine, dlt645Line };
  // The same rule as the API: a real serial device or a configured gateway, nothing else.
  const policy = v.config === undefined ? DEFAULT_BENCH_POLICY : benchLinePolicyFor(loadSiteConfigFile(v.config).config);
  try {
    return allowedBenchLine(spec, policy);
  } catch (e) {
    if (e instanceof BenchLineRefused) throw new UsageError(`--${e.message}`);
    throw e;
  }
}

const out = (s: string): void => void process.stdout.write(`${s}\n`);
const clock = (iso: string): string => iso.slice(11, 19);

function printEvent(e: ConverterEvent): void {
  if (e.type === 'operator-action') {
    out('');
    for (const [i, line] of e.instructions.entries()) out(`    ${i + 1}. ${line}`);
    out('');
    return;
  }
  const s: StepRecord = e.step;
  if (e.type === 'step-started') {
    out(`[${clock(s.startedAt)}] ▶ ${s.title}`);
    return;
  }
  const mark = s.status === 'ok' ? '✓' : '✗';
  out(`[${clock(s.finishedAt ?? s.startedAt)}] ${mark} ${s.id}: ${s.detail} (${((s.durationMs ?? 0) / 1000).toFixed(1)} s)`);
}

async function runFull(v: Values): Promise<number> {
  const address = int(v.address, 'address');
  const run = new ConverterRun({
    line: lineOf(v),
    plan: { serial: v.serial, model: modelOf(v), address },
    probeAttempts: int(v['probe-attempts'], 'probe-attempts', 5),
  });
  const rl = v.yes ? undefined : createInterface({ input: process.stdin });
  // Enter counts only while the run waits for it; input closing (EOF, a script) stops the run.
  rl?.on('line', () => {
    if (run.state !== 'waiting-for-operator') return;
    if (!process.stdin.isTTY) out('');
    run.operatorConfirmed();
  });
  rl?.on('close', () => run.cancel('input closed before the operator confirmed'));
  const onSigint = (): void => run.cancel('interrupted (Ctrl-C)');
  process.once('SIGINT', onSigint);
  if (!v.json) run.on(printEvent);
  run.on((e) => {
    if (e.type !== 'operator-action') return;
    if (!v.yes) return void process.stdout.write('Press Enter when the meter shows n.2 (Ctrl-C to stop): ');
    if (!v.json) out('--yes: not waiting for Enter; probing Modbus at address 1');
    run.operatorConfirmed();
  });
  try {
    const r = await run.start();
    if (v.json) out(JSON.stringify(r));
    else
      out(
        r.ok
          ? `═══ Full process complete: ${r.model} ${r.serial} is at Modbus address ${r.address}. Label it "Modbus Address: ${r.address}". ═══`
          : `═══ Full process FAILED at ${r.failedStep}: ${r.reason} ═══`,
      );
    return r.ok ? 0 : 1;
  } finally {
    rl?.close();
    process.off('SIGINT', onSigint);
  }
}

async function identify(v: Values): Promise<number> {
  const r = await identifyOverDlt645(lineOf(v), { onEvent: v.json ? undefined : printEvent });
  if (v.json) out(JSON.stringify(r));
  return r.ok ? 0 : 1;
}

/** The Modbus-only operations: one bus, closed afterwards. */
async function modbusOp(v: Values, op: string): Promise<number> {
  const bus = openModbus(lineOf(v));
  const profiles = loadProfiles();
  try {
    if (op === 'set-address') {
      const model = modelOf(v);
      const from = int(v.from, 'from');
      const to = int(v.to, 'to');
      checkAddress(to);
      await requireModel(bus, from, model);
      await writeAddress(bus, model, from, to, profiles);
      const held = await readAddressRegister(bus, to, model, profiles);
      if (held !== to) throw new Error(`the meter at ${to} reports address ${held}`);
      out(`${model} moved from address ${from} to ${to} (verified at ${to})`);
      return 0;
    }
    const address = int(v.address, 'address');
    if (op === 'show') {
      const info = await identifyModel(bus, address);
      out(
        v.json ? JSON.stringify(info) : `${info.model} at address ${info.address}${info.protocol ? `, protocol ${info.protocol}, ${info.baudRate} baud` : ''}`,
      );
      return 0;
    }
    if (op === 'set-protocol') {
      const p = v.protocol as ProtocolName;
      if (!PROTOCOLS.includes(p)) throw new UsageError(`--protocol: one of ${PROTOCOLS.join(', ')}`);
      await setProtocol(bus, address, p);
      out(`protocol set to ${p}${p === '645' ? ': the meter now speaks DL/T645 only' : ''}`);
      return 0;
    }
    const baud = int(v['new-baud'], 'new-baud');
    await setBaud(bus, address, baud);
    out(`baud set to ${baud}: talk to the meter at that rate from now on (--baud ${baud})`);
    return 0;
  } finally {
    await bus.close();
  }
}

export async function convertCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  const [sub, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  switch (sub) {
    case 'identify':
      return identify(v);
    case 'run':
      return runFull(v);
    case 'set-address':
    case 'show':
    case 'set-protocol':
    case 'set-baud':
      return modbusOp(v, sub);
    default:
      throw new UsageError(`give a subcommand: identify, run, set-address, show, set-protocol or set-baud${sub ? ` (not "${sub}")` : ''}`);
  }
}
