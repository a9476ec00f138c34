import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fromRoot } from '../../src/util/paths.js';

export const MGOS = fromRoot('dist', 'src', 'cli', 'mgos.js');
const run = promisify(execFile);

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built `mgos` command as a user would, collecting its exit code and output. */
export async function mgos(args: string[], env: NodeJS.ProcessEnv = process.env, timeout = 30_000): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [MGOS, ...args], { timeout, env });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}
