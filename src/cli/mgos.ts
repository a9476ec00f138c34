#!/usr/bin/env node
import { UsageError } from './usage-error.js';

/** A command's module, loaded only when that command runs, so `mgos --help` and `mgos read` load no more than they use. */
interface Command {
  run(argv: string[]): Promise<number>;
  readonly help: string;
}

const COMMANDS: Record<string, () => Promise<Command>> = {
  start: async () => import('./commands/start.js').then((m) => ({ run: m.startCommand, help: m.START_HELP })),
  sim: async () => import('./commands/sim.js').then((m) => ({ run: m.simCommand, help: m.SIM_HELP })),
  read: async () => import('./commands/read.js').then((m) => ({ run: m.readCommand, help: m.READ_HELP })),
  export: async () => import('./commands/export.js').then((m) => ({ run: m.exportCommand, help: m.EXPORT_HELP })),
  user: async () => import('./commands/user.js').then((m) => ({ run: m.userCommand, help: m.USER_HELP })),
  meter: async () => import('./commands/meter.js').then((m) => ({ run: m.meterCommand, help: m.METER_HELP })),
  scan: async () => import('./commands/scan.js').then((m) => ({ run: m.scanCommand, help: m.SCAN_HELP })),
  convert: async () => import('./commands/convert.js').then((m) => ({ run: m.convertCommand, help: m.CONVERT_HELP })),
};

const HELP = `mgos: Microgrid OS

  mgos start --demo              run a simulated mini-grid with the recorder and web UI
  mgos start --config site.yaml  run a real site
  mgos sim                       serve a simulated mini-grid over Modbus (TCP, RTU over TCP, serial)
  mgos read                      read one meter once, all channels in engineering units
  mgos export                    write a meter's day as CSV
  mgos user                      add users, reset passwords
  mgos meter                     add, change, disable, remove meters on the running system
  mgos scan                      scan a bus for meters
  mgos convert                   lab bench: convert a new CHINT meter from DL/T645 to Modbus, set its address

  mgos <command> --help          details of one command`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${HELP}\n`);
    return name ? 0 : 2;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    process.stderr.write(`mgos: unknown command "${name}"; commands: ${Object.keys(COMMANDS).join(', ')}\n`);
    return 2;
  }
  const command = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.help}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof UsageError || (e instanceof TypeError && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`mgos ${name}: ${e.message}\n\n${command.help}\n`);
      return 2;
    }
    // Loaded only on this error path (usually already loaded by the command that threw), so --help stays light.
    const { ConfigError } = await import('../util/yaml-file.js');
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      return 1;
    }
    process.stderr.write(`mgos ${name}: ${(e as Error).message}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`mgos: ${String(e)}\n`);
    process.exitCode = 1;
  },
);
