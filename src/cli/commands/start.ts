import { parseArgs } from 'node:util';
import { UsageError } from '../usage-error.js';

export const START_HELP = `mgos start: run Microgrid OS

  mgos start --demo                 a simulated mini-grid (1 DTSU666 + 24 DDSU666 on one 9600-baud bus,
                                    a hybrid inverter with battery, PV and a generator, steered),
                                    SQLite in ./data, web UI on http://127.0.0.1:8080
  mgos start --config site.yaml     a real site from its configuration file

  --data DIR        where the demo keeps its database (default ./data)
  --port P          HTTP port (default: the config's, 8080)
  --host H          HTTP listen address (default 127.0.0.1; 0.0.0.0 to serve the LAN)

On the very first start the admin password is generated and shown once. Set MGOS_ADMIN_PASSWORD
to choose it instead.`;

export async function startCommand(argv: string[]): Promise<number> {
  const { values: v } = parseArgs({
    args: argv,
    options: { demo: { type: 'boolean' }, config: { type: 'string' }, data: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' } },
  });
  if (!v.demo && !v.config) throw new UsageError('give --demo or --config FILE');
  if (v.demo && v.config) throw new UsageError('give either --demo or --config FILE, not both');
  const port = v.port === undefined ? undefined : Number(v.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new UsageError(`--port: expected 0-65535, got "${v.port}"`);
  const { startSystem } = await import('../../system.js'); // loaded here so that `mgos start --help` stays quick
  const start = () =>
    startSystem({
      configPath: v.config,
      dataDir: v.data ?? 'data',
      httpPort: port,
      httpHost: v.host,
      adminPassword: process.env.MGOS_ADMIN_PASSWORD,
    });
  let system = await start();
  const lines = [
    `Microgrid OS is running: ${system.url}  (${system.site.meterList().length} meters, database ${system.storage.onDisk ? system.config.storage.path : `in memory: the data disk of ${system.config.storage.path} is full`})`,
  ];
  if (system.sim) {
    lines.push(
      `Simulated RS-485 bus (RTU over TCP): ${system.sim.host}:${system.sim.rtuTcpPort}, e.g. mgos read --tcp ${system.sim.host}:${system.sim.rtuTcpPort} --rtu-over-tcp --address 2 --type 1phase`,
    );
  }
  if (system.adminPassword && !process.env.MGOS_ADMIN_PASSWORD) {
    lines.push(
      '',
      'First start: an administrator account was created. This password is shown ONCE; write it down:',
      `    username: admin`,
      `    password: ${system.adminPassword}`,
      'Change it under your account, or later with: mgos user passwd admin --config <file>',
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  const stopped = new Promise<'stop'>((resolve) => {
    process.once('SIGINT', () => resolve('stop'));
    process.once('SIGTERM', () => resolve('stop'));
  });
  // A store held in memory (a first start on a full disk) moves to its file once the disk has room; a
  // remote restart command closes and starts again the same way.
  for (;;) {
    const next = await Promise.race([stopped, system.storage.roomOnDisk.then(() => 'room' as const), system.restartRequested.then((why) => ({ why }))]);
    if (next === 'stop') break;
    process.stdout.write(
      next === 'room' ? `the data disk has room again: writing the store to ${system.config.storage.path} and restarting on it\n` : `restarting: ${next.why}\n`,
    );
    await system.close();
    system = await start();
    process.stdout.write(`Microgrid OS is running again: ${system.url}\n`);
  }
  process.stdout.write('stopping: writing buffered readings...\n');
  await system.close();
  return 0;
}
