import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMinor, minor, parseMajor, divHalfEven } from '../src/billing/money.js';
import { formatPrice } from '../src/billing/price.js';
import { parseTariff, type Tariff } from '../src/billing/tariff.js';
import { rate, rateIncrement, type IntervalEnergy, type Usage } from '../src/billing/rating.js';
import { mulberry32 } from '../src/sim/prng.js';

const TZ = 'Africa/Kampala'; // UTC+3, no DST
const local = (s: string): number => Date.parse(`${s}+03:00`);
const iv = (s: string, kWh: number): IntervalEnergy => ({ startMs: local(s), kWh });
const flat = (currency: string, priceE4: number, extra: object = {}): Tariff =>
  parseTariff({ id: 't', name: 'T', currency, versions: [{ version: 1, effectiveFrom: '2026-01-01', energy: { kind: 'flat', priceE4 }, ...extra }] });
const period = (from: string, to: string) => ({ fromMs: local(`${from}T00:00:00`), toMs: local(`${to}T00:00:00`) });

test('money: integers only, half-even, formatting per ISO 4217 minor unit', () => {
  assert.throws(() => minor(1.5));
  assert.throws(() => minor(2 ** 53));
  assert.equal(divHalfEven(5n, 2n), 2n);
  assert.equal(divHalfEven(7n, 2n), 4n);
  assert.equal(divHalfEven(-5n, 2n), -2n);
  assert.equal(divHalfEven(26n, 10n), 3n);
  assert.equal(formatMinor(minor(1234567), 'UGX'), 'UGX 1,234,567');
  assert.equal(formatMinor(minor(-2550), 'KES'), 'KES -25.50');
  assert.equal(formatMinor(minor(5), 'KES'), 'KES 0.05');
  assert.equal(parseMajor('25.50', 'KES'), 2550);
  assert.throws(() => parseMajor('25.5', 'UGX'));
  assert.equal(formatPrice(2_500_000, 'UGX'), '250 UGX/kWh');
  assert.equal(formatPrice(25_500_000, 'KES'), '25.50 KES/kWh');
  assert.equal(formatPrice(25_502_500, 'KES'), '25.5025 KES/kWh');
});

test('flat UGX 250/kWh rounds once per line, half-even', () => {
  // 3 x 0.123456 kWh = 0.370368 kWh x 250 = 92.592 -> 93
  const bill = rate(
    [iv('2026-03-02T10:00:00', 0.123456), iv('2026-03-02T10:15:00', 0.123456), iv('2026-03-02T10:30:00', 0.123456)],
    flat('UGX', 2_500_000),
    period('2026-03-01', '2026-04-01'),
    TZ,
  );
  assert.equal(bill.totalMinor, 93);
  assert.equal(bill.lines.length, 1);
  assert.equal(bill.lines[0]?.description, 'Energy at 250 UGX/kWh, 0.370 kWh');
  // exactly half: 0.002 kWh x 250 = 0.5 -> 0 (even); 0.006 x 250 = 1.5 -> 2
  assert.equal(rate([iv('2026-03-02T10:00:00', 0.002)], flat('UGX', 2_500_000), period('2026-03-01', '2026-04-01'), TZ).totalMinor, 0);
  assert.equal(rate([iv('2026-03-02T10:00:00', 0.006)], flat('UGX', 2_500_000), period('2026-03-01', '2026-04-01'), TZ).totalMinor, 2);
});

test('flat KES 25.50/kWh in cents', () => {
  // 10.1 kWh x 25.50 = 257.55 KES
  const bill = rate([iv('2026-03-02T10:00:00', 10), iv('2026-03-02T10:15:00', 0.1)], flat('KES', 25_500_000), period('2026-03-01', '2026-04-01'), TZ);
  assert.equal(bill.totalMinor, 25755);
  assert.equal(formatMinor(bill.totalMinor, 'KES'), 'KES 257.55');
});

const blockTariff = (): Tariff =>
  parseTariff({
    id: 'b',
    name: 'Lifeline',
    currency: 'UGX',
    versions: [
      {
        version: 1,
        effectiveFrom: '2026-01-01',
        energy: {
          kind: 'block',
          blocks: [
            { upToKWh: 30, priceE4: 2_500_000 },
            { upToKWh: 100, priceE4: 5_000_000 },
            { upToKWh: null, priceE4: 8_000_000 },
          ],
        },
      },
    ],
  });

test('block tariff: blocks reset at the local month boundary inside one period', () => {
  // March: 40 kWh = 30 x 250 + 10 x 500 = 12,500. April: 35 kWh = 30 x 250 + 5 x 500 = 10,000.
  const ivs = [iv('2026-03-30T10:00:00', 25), iv('2026-03-31T23:45:00', 15), iv('2026-04-01T00:00:00', 20), iv('2026-04-02T00:00:00', 15)];
  const bill = rate(ivs, blockTariff(), period('2026-03-25', '2026-04-05'), TZ);
  assert.equal(bill.totalMinor, 22_500);
  assert.deepEqual(
    bill.lines.map((l) => [l.description, l.amountMinor]),
    [
      ['2026-03 Block 1: 0-30 kWh at 250 UGX/kWh, 30.000 kWh', 7500],
      ['2026-03 Block 2: 30-100 kWh at 500 UGX/kWh, 10.000 kWh', 5000],
      ['2026-04 Block 1: 0-30 kWh at 250 UGX/kWh, 30.000 kWh', 7500],
      ['2026-04 Block 2: 30-100 kWh at 500 UGX/kWh, 5.000 kWh', 2500],
    ],
  );
  // 23:45 local on 31 March is 20:45Z: still March locally, although UTC would say the same; 21:00Z is April.
  assert.equal(rate([iv('2026-03-31T23:45:00', 120)], blockTariff(), period('2026-03-01', '2026-05-01'), TZ).totalMinor, 30 * 250 + 70 * 500 + 20 * 800);
});

test('time of use with a weekday-only peak and an evening peak wrapping nothing', () => {
  const t = parseTariff({
    id: 'tou',
    name: 'TOU',
    currency: 'UGX',
    versions: [
      {
        version: 1,
        effectiveFrom: '2026-01-01',
        energy: {
          kind: 'tou',
          otherwisePriceE4: 3_000_000,
          periods: [
            { name: 'Evening peak', fromMinute: 18 * 60, toMinute: 23 * 60, priceE4: 6_000_000 },
            { name: 'Weekday morning', fromMinute: 7 * 60, toMinute: 9 * 60, weekdays: [1, 2, 3, 4, 5], priceE4: 4_000_000 },
          ],
        },
      },
    ],
  });
  // 2026-03-02 is a Monday, 2026-03-07 a Saturday.
  const bill = rate(
    [iv('2026-03-02T18:00:00', 2), iv('2026-03-02T12:00:00', 1), iv('2026-03-02T08:45:00', 1), iv('2026-03-07T08:45:00', 1), iv('2026-03-07T22:45:00', 1)],
    t,
    period('2026-03-01', '2026-04-01'),
    TZ,
  );
  assert.equal(bill.totalMinor, 3 * 600 + 400 + 2 * 300);
  assert.deepEqual(
    bill.lines.map((l) => l.description),
    ['Evening peak 18:00-23:00 at 600 UGX/kWh, 3.000 kWh', 'Weekday morning 07:00-09:00 at 400 UGX/kWh, 1.000 kWh', 'Other hours at 300 UGX/kWh, 2.000 kWh'],
  );
});

test('fixed monthly charge prorated by local days, with VAT 18 % on energy and fixed', () => {
  const t = flat('UGX', 2_500_000, { fixedMonthlyMinor: 3000, taxes: [{ name: 'VAT', rateBp: 1800, base: ['energy', 'fixed'] }] });
  // 16-30 April = 15 of 30 days -> 1,500; energy 10 kWh x 250 = 2,500; VAT 18 % of 4,000 = 720.
  const bill = rate([iv('2026-04-20T10:00:00', 10)], t, period('2026-04-16', '2026-05-01'), TZ);
  assert.deepEqual(
    bill.lines.map((l) => [l.kind, l.amountMinor]),
    [
      ['energy', 2500],
      ['fixed', 1500],
      ['tax', 720],
    ],
  );
  assert.equal(bill.totalMinor, 4720);
  assert.match(bill.lines[1]?.description ?? '', /15\/30 days of UGX 3,000/);
  // A whole month is exactly the fixed charge; 10 of 31 days of 3,000 = 967.74 -> 968.
  assert.equal(rate([], t, period('2026-03-01', '2026-04-01'), TZ).lines[0]?.amountMinor, 3000);
  assert.equal(rate([], t, period('2026-03-01', '2026-03-11'), TZ).lines[0]?.amountMinor, 968);
});

test('a tariff change mid-month prices each interval by the version in force at its start; blocks keep counting', () => {
  const t = parseTariff({
    id: 'c',
    name: 'Change',
    currency: 'UGX',
    versions: [
      { version: 1, effectiveFrom: '2026-01-01', energy: { kind: 'flat', priceE4: 2_500_000 } },
      {
        version: 2,
        effectiveFrom: '2026-03-15',
        energy: {
          kind: 'block',
          blocks: [
            { upToKWh: 30, priceE4: 2_000_000 },
            { upToKWh: null, priceE4: 6_000_000 },
          ],
        },
        taxes: [{ name: 'VAT', rateBp: 1800, base: ['energy'] }],
      },
    ],
  });
  // v1: 25 kWh x 250 = 6,250 (14 March 23:45 local). v2 from local midnight: month-to-date 25, so
  // 5 kWh x 200 = 1,000 and 5 x 600 = 3,000; VAT 18 % of 4,000 = 720.
  const bill = rate([iv('2026-03-14T23:45:00', 25), iv('2026-03-15T00:00:00', 10)], t, period('2026-03-01', '2026-04-01'), TZ);
  assert.deepEqual(
    bill.lines.map((l) => [l.tariffVersion, l.kind, l.amountMinor]),
    [
      [1, 'energy', 6250],
      [2, 'energy', 1000],
      [2, 'energy', 3000],
      [2, 'tax', 720],
    ],
  );
  assert.equal(bill.totalMinor, 10_970);
  assert.throws(() => rate([iv('2025-12-31T10:00:00', 1)], t, period('2025-12-01', '2026-01-02'), TZ), /no tariff version/);
});

test('tariff schema refuses bad blocks and unordered versions', () => {
  assert.throws(() =>
    parseTariff({
      id: 'x',
      name: 'x',
      currency: 'UGX',
      versions: [
        {
          version: 1,
          effectiveFrom: '2026-01-01',
          energy: {
            kind: 'block',
            blocks: [
              { upToKWh: 30, priceE4: 1 },
              { upToKWh: 20, priceE4: 1 },
              { upToKWh: null, priceE4: 1 },
            ],
          },
        },
      ],
    }),
  );
  assert.throws(() =>
    parseTariff({
      id: 'x',
      name: 'x',
      currency: 'UGX',
      versions: [
        { version: 1, effectiveFrom: '2026-02-01', energy: { kind: 'flat', priceE4: 1 } },
        { version: 2, effectiveFrom: '2026-01-01', energy: { kind: 'flat', priceE4: 1 } },
      ],
    }),
  );
  assert.throws(() =>
    parseTariff({ id: 'x', name: 'x', currency: 'XXX', versions: [{ version: 1, effectiveFrom: '2026-01-01', energy: { kind: 'flat', priceE4: 1 } }] }),
  );
  assert.throws(() =>
    parseTariff({ id: 'x', name: 'x', currency: 'UGX', versions: [{ version: 1, effectiveFrom: '2026-01-01', energy: { kind: 'flat', priceE4: 1.5 } }] }),
  );
});

/** A seeded generator, so a failing sequence can be replayed from its seed. */
const rng = mulberry32;

test('property: increments summed over each month equal rating each month at once (200 seeds)', () => {
  const t = parseTariff({
    id: 'p',
    name: 'Prop',
    currency: 'KES',
    versions: [
      {
        version: 1,
        effectiveFrom: '2026-01-01',
        energy: {
          kind: 'block',
          blocks: [
            { upToKWh: 3, priceE4: 1_234_567 },
            { upToKWh: 9.5, priceE4: 2_550_001 },
            { upToKWh: null, priceE4: 4_000_003 },
          ],
        },
        fixedMonthlyMinor: 5000,
        taxes: [{ name: 'VAT', rateBp: 1800, base: ['energy', 'fixed'] }],
      },
      {
        version: 2,
        effectiveFrom: '2026-03-20',
        energy: { kind: 'tou', otherwisePriceE4: 2_000_007, periods: [{ name: 'Peak', fromMinute: 1080, toMinute: 1380, priceE4: 3_333_333 }] },
        taxes: [{ name: 'VAT', rateBp: 1600, base: ['energy'] }],
      },
    ],
  });
  for (let seed = 1; seed <= 200; seed++) {
    const r = rng(seed);
    const start = local('2026-03-10T00:00:00');
    const n = 1 + Math.floor(r() * 4000); // up to ~6 weeks: crosses the version change and April
    const ivs: IntervalEnergy[] = [];
    for (let k = 0; k < n; k++) ivs.push({ startMs: start + k * 900_000, kWh: r() < 0.2 ? 0 : Math.round(r() * 400_000) / 1e6 });
    let state: Usage | undefined;
    let charged = 0;
    for (let k = 0; k < n;) {
      const m = 1 + Math.floor(r() * 300);
      const inc = rateIncrement(state, ivs.slice(k, k + m), t, TZ);
      assert.equal(
        inc.amountMinor,
        inc.lines.reduce((s, l) => s + l.amountMinor, 0),
      );
      charged += inc.amountMinor;
      state = inc.state;
      k += m;
    }
    const march = rate(ivs, t, period('2026-03-01', '2026-04-01'), TZ, { includeFixed: false }).totalMinor;
    const april = rate(ivs, t, period('2026-04-01', '2026-05-01'), TZ, { includeFixed: false }).totalMinor;
    assert.equal(charged, march + april, `seed ${seed}`);
  }
});

test('a zone with daylight saving: local time of day, month and prorated days follow the wall clock', () => {
  const t = parseTariff({
    id: 'uk',
    name: 'UK',
    currency: 'USD',
    versions: [
      {
        version: 1,
        effectiveFrom: '2026-01-01',
        energy: { kind: 'tou', otherwisePriceE4: 100_000, periods: [{ name: 'Peak', fromMinute: 17 * 60, toMinute: 19 * 60, priceE4: 300_000 }] },
        fixedMonthlyMinor: 3100,
      },
    ],
  });
  // 30 March 2026 (BST, UTC+1): 17:00 local is 16:00Z -> peak. 27 March (GMT): 17:00Z -> peak.
  const bill = rate(
    [
      { startMs: Date.parse('2026-03-30T16:00:00Z'), kWh: 1 },
      { startMs: Date.parse('2026-03-27T17:00:00Z'), kWh: 1 },
      { startMs: Date.parse('2026-03-30T18:00:00Z'), kWh: 1 },
    ],
    t,
    { fromMs: Date.parse('2026-03-01T00:00:00Z'), toMs: Date.parse('2026-03-31T23:00:00Z') },
    'Europe/London',
  );
  // 2 kWh at $0.30 + 1 kWh at $0.10 = 70 cents; all 31 days of March: 3,100.
  assert.deepEqual(
    bill.lines.map((l) => l.amountMinor),
    [60, 10, 3100],
  );
});
