import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { unsupportedNames } from '../src/csip/conformance/interpreter.js';
import { makeConformancePki } from '../src/csip/conformance/pki.js';
import { countUsages, loadProcedure, loadProcedures, PROCEDURES_DIR } from '../src/csip/conformance/procedure.js';
import { runProcedure, verdictLine } from '../src/csip/conformance/runner.js';
import { evaluate } from '../src/csip/conformance/expressions.js';

// The CACTUS client procedures (conformance/cactus, MIT) interpreted by the project's utility model and
// run against the real 2030.5 client over HTTPS with mTLS, on a manual clock (docs/csip.md#conformance).

const pki = makeConformancePki();
const procedure = (id: string) => loadProcedure(path.join(PROCEDURES_DIR, `${id}.yaml`));

test('all 83 procedures parse into checked types, and the counts of what they use are known', () => {
  const all = loadProcedures();
  assert.equal(all.length, 83);
  const counts = countUsages(all);
  assert.deepEqual(counts.actions.slice(0, 3), [
    ['remove-steps', 455],
    ['enable-steps', 277],
    ['create-der-control', 208],
  ]);
  assert.deepEqual(counts.checks[0], ['response-contents', 130]);
  // Pricing is not interpreted: such a procedure is reported unsupported by name, never run.
  assert.ok(unsupportedNames(procedure('PRC-01')).includes('action create-tariff-profile'));
  assert.deepEqual(unsupportedNames(procedure('GEN-01')), []);
});

test('variable expressions resolve from the clock and the client’s DERSettings', () => {
  const r = { nowMs: 1_000_000, settings: { setMaxW: 5000, setMaxDischargeRateW: 4000 }, capability: { rtgMaxW: 6000 }, randuri: () => '/x' };
  assert.deepEqual(evaluate("now + '5 minutes'", 'start', r), { timeMs: 1_300_000 });
  assert.equal(evaluate('maxExportW * 0.5', 'opModExpLimW', r), 2000);
  assert.equal(evaluate('maxImportW * 2', 'opModImpLimW', r), 10_000);
  assert.equal(evaluate('this <= rtgMaxW', 'setMaxW', r), true);
  assert.throws(() => evaluate('setMaxVA', 'x', r), /has not reported DERSettings.setMaxVA/);
});

// GEN-05 and LOA-05 need subscriptions: their new controls reach the client by notification (lists polled every 900 s).
// ALL-15 and ALL-16 need the DERStatus PUT when the status changes (DERList read every 900 s); ALL-07 and
// ALL-08 the runner's tester acting on its DER (tester.ts); ALL-21 the operator's start after the client's read.
for (const id of ['ALL-01', 'ALL-02', 'ALL-03', 'ALL-10', 'GEN-01', 'LOA-01', 'GEN-11', 'GEN-05', 'LOA-05', 'ALL-07', 'ALL-08', 'ALL-15', 'ALL-16', 'ALL-21']) {
  test(`${id} passes against the project's client`, async () => {
    const v = await runProcedure(procedure(id), { pki });
    assert.equal(v.result, 'PASS', verdictLine(v));
  });
}

// The CSIP-AUS v1.3 storage extension: vppModes and setMinWh reported (STO-02, STO-05, the capability PUT
// at every DERList read), six storage-target controls with export limits answered in turn (STO-06).
for (const id of ['STO-02', 'STO-05', 'STO-06']) {
  test(`${id} passes against the project's client`, async () => {
    const v = await runProcedure(procedure(id), { pki });
    assert.equal(v.result, 'PASS', verdictLine(v));
  });
}

test('STO-03: the storage target is answered in order when polled; a subscribing client answers before the GET the procedure waits for', async () => {
  const polled = await runProcedure(procedure('STO-03'), { pki, sabotage: 'no-subscriptions' });
  assert.equal(polled.result, 'PASS', verdictLine(polled));
  const notified = await runProcedure(procedure('STO-03'), { pki });
  assert.equal(notified.result, 'FAIL', verdictLine(notified));
  assert.match(verdictLine(notified), /steps not complete: POST-RESPONSE-RECEIVED \(waiting\)/);
});

test('a client that posts no Responses fails GEN-11 on its response checks', async () => {
  const v = await runProcedure(procedure('GEN-11'), { pki, sabotage: 'no-responses' });
  assert.equal(v.result, 'FAIL', verdictLine(v));
  assert.match(verdictLine(v), /response-contents/);
});

test('a client that reports no DERSettings never gets past the preconditions of GEN-01', async () => {
  const v = await runProcedure(procedure('GEN-01'), { pki, sabotage: 'no-der-reports', limitS: 600 });
  assert.equal(v.result, 'FAIL', verdictLine(v));
  assert.match(verdictLine(v), /precondition not met: the client has not sent a DERSettings/);
});

test('a client that does not subscribe never gets past the preconditions of GEN-05', async () => {
  const v = await runProcedure(procedure('GEN-05'), { pki, sabotage: 'no-subscriptions', limitS: 600 });
  assert.equal(v.result, 'FAIL', verdictLine(v));
  assert.match(verdictLine(v), /precondition not met: subscription-contents: no Subscription to \/edev\/1\/derp\/1\/derc/);
});

test('procedures this client or the runner cannot carry out faithfully are listed as not run, with the reason', async () => {
  const cases: [string, RegExp][] = [
    ['ALL-14', /aggregator's EndDevice \(\/edev\/0\/sub\).*device client/],
    ['P-01', /several EndDevices.*device client/],
    ['MUL-01', /tester action "Power off one DER.*one DER/],
  ];
  for (const [id, why] of cases) {
    const v = await runProcedure(procedure(id), { pki });
    assert.equal(v.result, 'UNSUPPORTED', verdictLine(v));
    assert.match(verdictLine(v), why);
  }
});

test('the operator starting ALL-21 right at the client’s read (0 s) is the one phase where its first 60 s control is read at its end', async () => {
  const v = await runProcedure(procedure('ALL-21'), { pki, startDelayS: 0 });
  assert.equal(v.result, 'FAIL', verdictLine(v));
  assert.match(verdictLine(v), /no Response with status 2 for DERC1/);
});
