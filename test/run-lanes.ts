/**
 * Runs every compiled test file in two lanes at once, each lane one file at a time (node --test
 * --test-concurrency=1): the browser tests and the closed loops on test/helpers/control-site.ts in
 * one, everything else in the other. One file at a time took 16 minutes of CI's 20; two lanes use
 * the second core without ever running two Chromiums or two simulated control sites side by side
 * (the files that time the cycle or wait on a browser stay in a lane of their own kind).
 *
 * Each lane's TAP output is printed as it comes, every line prefixed with the lane's name; the exit
 * code is non-zero when either lane fails. Usage: node dist/test/run-lanes.js [dir]
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

const dir = process.argv[2] ?? path.join(import.meta.dirname);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.test.js'))
  .sort()
  .map((f) => path.join(dir, f));
const realTime = (f: string): boolean => path.basename(f).startsWith('browser') || readFileSync(f, 'utf8').includes('startControlSite');

interface LaneResult {
  readonly name: string;
  readonly code: number;
  readonly summary: string[];
}

function lane(name: string, laneFiles: readonly string[]): Promise<LaneResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=tap', ...laneFiles], { stdio: ['ignore', 'pipe', 'pipe'] });
    const summary: string[] = [];
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        process.stdout.write(`[${name}] ${line}\n`);
        if (/^# (tests|pass|fail|cancelled|skipped|todo|duration_ms) /.test(line)) summary.push(line);
      });
    }
    child.on('error', reject);
    child.on('close', (code) => resolve({ name, code: code ?? 1, summary }));
  });
}

const a = files.filter(realTime);
const b = files.filter((f) => !realTime(f));
const results = await Promise.all([lane('real-time', a), lane('other', b)]);
const count = (r: LaneResult, k: string): number => Number(r.summary.findLast((l) => l.startsWith(`# ${k} `))?.split(' ')[2] ?? 0);
for (const r of results) console.log(`# lane ${r.name}: ${r.summary.join(', ').replaceAll('# ', '')} (exit ${r.code})`);
const total = (k: string): number => results.reduce((n, r) => n + count(r, k), 0);
console.log(`# all lanes: ${files.length} files, tests ${total('tests')}, pass ${total('pass')}, fail ${total('fail')}, cancelled ${total('cancelled')}`);
process.exitCode = results.some((r) => r.code !== 0) ? 1 : 0;
