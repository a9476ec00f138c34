#!/usr/bin/env node
import { ConfigError } from '../config/yaml-file.js';
import { convertCommand, CONVERT_HELP } from './commands/convert.js';
import { exportCommand, EXPORT_HELP } from './commands/export.js';
import { meterCommand, METER_HELP } from './commands/meter.js';
import { readCommand, READ_HELP } from './commands/read.js';
import { scanCommand, SCAN_HELP } from './commands/scan.js';
import { simCommand, SIM_HELP } from './commands/sim.js';
import { startCommand, START_HELP } from './commands/start.js';
import { userCommand, USER_HELP } from './commands/user.js';
import { UsageError } from './usage-error.js';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; help: string }> = {
  start: { run: startCommand, help: START_HELP },
  sim: { run: simCommand, help: SIM_HELP },
  read: { run: readCommand, help: READ_HELP },
  export: { run: exportCommand, help: EXPORT_HELP },
  user: { run: userCommand, help: USER_HELP },
  meter: { run: meterCommand, help: METER_HELP },
  scan: { run: scanCommand, help: SCAN_HELP },
  convert: { run: convertCommand, help: CONVERT_HELP },
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
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`mgos: unknown command "${name}"; commands: ${Object.keys(COMMANDS).join(', ')}\n`);
    return 2;
  }
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
