import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CsipClient } from '../src/csip/client.js';
import { MIN_CHANGE_SPACING_MS } from '../src/csip/der-reporter.js';
import type { DerReport } from '../src/csip/der-reports.js';
import { DEFAULT_DER } from '../src/csip/conformance/runner.js';
import { manualClock } from '../src/util/clock.js';
import { NOON } from './helpers/control-site.js';
import { startReportingUtility } from './helpers/reporting-utility.js';

// Issue 11 item 4 (CACTUS ALL-15, ALL-16): the client PUTs a DER's status and settings when what they
// report changes, not only at its DERList read (every 900 s here), at most once per MIN_CHANGE_SPACING_MS
// per DER; over HTTPS with mTLS to the reporting test server, on a manual clock.

test('a changed DER status is PUT at the next tick with the settings, a second change within the spacing waits for it, and nothing is PUT while nothing changes', async (t) => {
  const clock = manualClock(NOON);
  const utility = await startReportingUtility({ clock, ders: 1, preRegistered: true, rates: { der: 900, derp: 900, derc: 900, fsa: 900, edev: 900 } });
  let der: DerReport = DEFAULT_DER;
  const client = new CsipClient({
    baseUrl: utility.url,
    cert: utility.pki.deviceCert,
    key: utility.pki.deviceKey,
    ca: utility.pki.caCert,
    clock,
    ders: () => [der],
  });
  t.after(async () => {
    await client.stop();
    await utility.close();
  });
  const puts = (kind: 'derg' | 'ders'): number => utility.server.requests.filter((r) => r.method === 'PUT' && r.path === `/edev/1/der/1/${kind}`).length;
  const step = async (ms: number): Promise<void> => {
    clock.set(clock() + ms);
    await client.tick();
  };

  await client.tick();
  assert.equal(puts('ders'), 1, `the DERList read reports the status: ${client.lastError ?? ''}`);
  assert.equal(puts('derg'), 1);

  // Unchanged for a minute of ticks: no PUT.
  for (let i = 0; i < 60; i++) await step(1000);
  assert.equal(puts('ders'), 1, 'nothing changed, nothing PUT');

  // The DER stops operating: status and settings go out at the next tick, long before the next DERList read.
  der = { ...DEFAULT_DER, status: { ...DEFAULT_DER.status, genConnectStatus: 0b011, operationalModeStatus: 1 } };
  await step(1000);
  assert.equal(puts('ders'), 2, 'the changed status is PUT at once');
  assert.equal(puts('derg'), 2, 'with the settings');
  assert.equal(utility.ders.get(1)?.status?.['operationalModeStatus'], 1);

  // It changes back 1 s later: held until the spacing has passed since the last PUT, then PUT once.
  der = DEFAULT_DER;
  await step(1000);
  assert.equal(puts('ders'), 2, 'held back by the spacing');
  assert.equal(client.nextDueMs(), clock() - 1000 + MIN_CHANGE_SPACING_MS, 'the client wakes when the held change may go out');
  await step(MIN_CHANGE_SPACING_MS - 1000);
  assert.equal(puts('ders'), 3, 'sent once the spacing has passed');
  assert.equal(utility.ders.get(1)?.status?.['operationalModeStatus'], 2);
  await step(1000);
  assert.equal(puts('ders'), 3, 'and not again');
});
