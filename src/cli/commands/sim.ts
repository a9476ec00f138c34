import { parseArgs } from 'node:util';
import { UsageError } from '../usage-error.js';

export const SIM_HELP = `mgos sim: serve a simulated mini-grid (one DTSU666 main meter at address 100, customer DDSU666
meters at 2..N+1) over real Modbus, until Ctrl-C

  --customers N        customer meters (default 24)
  --seed N             random seed (default 1): the same seed gives the same site
  --host H             listen address (default 127.0.0.1)
  --port P             RTU frames over TCP, like an RS-485-to-Ethernet gateway (default 5020)
  --mbap-port P        also serve Modbus TCP (MBAP), e.g. for "mbpoll -m tcp"
  --serial PATH        also serve RTU on a serial device (e.g. one end of a socat pty pair); repeatable
  --baud B             emulate RS-485 wire time at this baud rate (8N2), e.g. 9600
  --turnaround MS      meter turnaround time with --baud (default 5)
  --silent ADDR        this meter never answers (repeatable)
  --corrupt ADDR       this meter answers with broken frames (repeatable)`;

const int = (v: string | undefined, name: string, fallback: number): number => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name}: expected a whole number, got "${v}"`);
  return n;
};

export async function simCommand(argv: string[]): Promise<number> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      customers: { type: 'string' },
      seed: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'mbap-port': { type: 'string' },
      serial: { type: 'string', multiple: true },
      baud: { type: 'string' },
      turnaround: { type: 'string' },
      silent: { type: 'string', multiple: true },
      corrupt: { type: 'string', multiple: true },
    },
  });
  const baud = int(v.baud, 'baud', 0);
  const { startSimulator } = await import('../../sim/simulator.js'); // loaded here so that `mgos sim --help` stays quick
  const sim = await startSimulator({
    customers: int(v.customers, 'customers', 24),
    seed: int(v.seed, 'seed', 1),
    host: v.host ?? '127.0.0.1',
    port: int(v.port, 'port', 5020),
    mbapPort: v['mbap-port'] === undefined ? undefined : int(v['mbap-port'], 'mbap-port', 502),
    serialPaths: v.serial ?? [],
    lineSpeed: baud > 0 ? { baudRate: baud, parity: 'none', stopBits: 2, turnaroundMs: int(v.turnaround, 'turnaround', 5) } : false,
  });
  for (const a of v.silent ?? []) sim.slave.silence(int(a, 'silent', 0));
  for (const a of v.corrupt ?? []) sim.slave.corrupt(int(a, 'corrupt', 0));
  const lines = [
    `simulated mini-grid: ${sim.meters.size} meters (main DTSU666 at 100, DDSU666 at 2..${sim.meters.size})`,
    `  RTU over TCP   ${sim.host}:${sim.rtuTcpPort}    e.g. mgos read --tcp ${sim.host}:${sim.rtuTcpPort} --rtu-over-tcp --address 2 --type 1phase`,
    ...(sim.mbapPort
      ? [`  Modbus TCP     ${sim.host}:${sim.mbapPort}    e.g. mbpoll -m tcp -p ${sim.mbapPort} -a 2 -t 4:float -B -0 -r 0x2000 -c 1 -1 ${sim.host}`]
      : []),
    ...sim.serialPaths.map((p) => `  serial RTU     ${p}`),
    baud > 0 ? `  line speed emulated at ${baud} baud 8N2` : '  no line-speed emulation (answers at once)',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sim.close();
  return 0;
}
