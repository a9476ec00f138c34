/**
 * A fleet of simulated OCPP chargers with cars in its own process (so its own work never blocks the
 * site it loads; bench/ev-chargers.ts): N chargers cp1..cpN connect with basic auth, boot, authorise,
 * start a transaction, then each sends MeterValues every METER_MS (staggered) and follows the profiles
 * the site sends. Prints `ready` once all charge, then after SECONDS one JSON line with its counts.
 * Usage: node dist/bench/ev-charger-fleet.js URL PASSWORD N SECONDS METER_MS ID_TAG
 */
import { SimCharger } from '../src/sim/ocpp-charger.js';
import { systemClock } from '../src/util/clock.js';

const [url = '', password = '', n = '100', seconds = '30', meterMs = '2000', idTag = 'RFID-FLEET'] = process.argv.slice(2);
const count = Number(n);
const chargers: SimCharger[] = [];
const failed: Record<string, number> = {};
const fail = (kind: string): void => {
  failed[kind] = (failed[kind] ?? 0) + 1;
};

for (let i = 1; i <= count; i++) chargers.push(new SimCharger({ url, id: `cp${i}`, password, clock: systemClock, carMaxW: 7360 }));
// Connected in groups of 10: a whole site's chargers rarely boot in the same second.
for (let i = 0; i < chargers.length; i += 10)
  await Promise.all(
    chargers.slice(i, i + 10).map(async (c) => {
      try {
        await c.connect();
        if ((await c.start(idTag)).status !== 'Accepted') fail('start refused');
      } catch {
        fail('connect');
      }
    }),
  );
process.stdout.write('ready\n');

let meterValues = 0;
const until = performance.now() + Number(seconds) * 1000;
await Promise.all(
  chargers.map(async (c, i) => {
    await new Promise((r) => setTimeout(r, (i * Number(meterMs)) / count));
    while (performance.now() < until) {
      try {
        await c.drive(Number(meterMs));
        meterValues++;
      } catch {
        fail('meter values');
      }
      await new Promise((r) => setTimeout(r, Number(meterMs)));
    }
  }),
);
const profiles = chargers.reduce((s, c) => s + c.received.length, 0);
const charging = chargers.filter((c) => c.powerW() > 0).length;
process.stdout.write(`${JSON.stringify({ meterValues, profiles, charging, failed })}\n`);
await Promise.all(chargers.map((c) => c.close().catch(() => undefined)));
process.exit(0);
