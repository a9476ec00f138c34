import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A virtual serial cable: socat joins two ptys; whatever is written to one end is read at the other.
 * Ptys do not enforce baud rate, so timing tests need the simulator's own line-speed emulation.
 */
export interface PtyPair {
  readonly a: string;
  readonly b: string;
  close(): Promise<void>;
}

export function toolPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

interface Skippable {
  skip(message?: string): void;
}

/**
 * True when `name` is installed. When it is not: under CI (process.env.CI set) this throws, so the
 * test fails instead of passing silently; elsewhere it marks the test skipped and returns false.
 */
export function requireTool(name: string, t?: Skippable): boolean {
  if (toolPath(name)) return true;
  const message = `${name} is not installed (apt-get install ${name})`;
  if (process.env.CI) throw new Error(`${message}; CI must run this test`);
  t?.skip(message);
  return false;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    child.once('exit', () => resolve());
  });
}

/** Starts `socat -d -d pty,raw,echo=0,link=A pty,raw,echo=0,link=B` in a temp dir and waits for both links. */
export async function openPtyPair(timeoutMs = 3000): Promise<PtyPair> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-pty-'));
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (c: Buffer) => (log += c.toString()));
  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited(child);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  // socat logs "starting data transfer loop" once both ptys exist.
  while (!(existsSync(a) && existsSync(b) && log.includes('starting data transfer loop'))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await close();
      throw new Error(`socat did not create the pty pair within ${timeoutMs} ms: ${log.trim()}`);
    }
    await sleep(10);
  }
  return { a, b, close };
}
