import { countUsages, loadProcedures } from './procedure.js';
import { SUPPORTED_ACTIONS, SUPPORTED_EVENTS } from './interpreter.js';
import { SUPPORTED_CHECKS } from './checks.js';
import { makeConformancePki } from './pki.js';
import { runProcedure, verdictLine, type Verdict } from './runner.js';

/**
 * `npm run conformance [-- ID…]`: every CACTUS client procedure in conformance/cactus/procedures (or the
 * ones named) against this project's 2030.5 client; one line per procedure and a summary.
 */
async function main(): Promise<void> {
  const only = new Set(process.argv.slice(2).map((s) => s.toUpperCase()));
  const all = loadProcedures();
  const counts = countUsages(all);
  const show = (what: string, list: [string, number][], supported: ReadonlySet<string>): void => {
    console.log(`${what}: ${list.map(([n, c]) => `${n} ${c}${supported.has(n) ? '' : ' (unsupported)'}`).join(', ')}`);
  };
  console.log(`${all.length} procedures`);
  show('actions', counts.actions, SUPPORTED_ACTIONS);
  show('checks', counts.checks, SUPPORTED_CHECKS);
  show('events', counts.events, SUPPORTED_EVENTS);
  console.log('');
  const pki = makeConformancePki();
  const chosen = only.size === 0 ? all : all.filter((p) => only.has(p.id.toUpperCase()));
  const verdicts: Verdict[] = [];
  const t0 = performance.now();
  for (const p of chosen) {
    let v: Verdict;
    try {
      v = await runProcedure(p, { pki });
    } catch (e) {
      v = { id: p.id, result: 'FAIL', reason: `the run itself failed: ${e instanceof Error ? e.message : String(e)}`, simulatedS: 0 };
    }
    verdicts.push(v);
    console.log(verdictLine(v));
  }
  const n = (r: Verdict['result']): number => verdicts.filter((v) => v.result === r).length;
  console.log(
    `\n${verdicts.length} procedures: ${n('PASS')} PASS, ${n('FAIL')} FAIL, ${n('UNSUPPORTED')} UNSUPPORTED (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
}

await main();
