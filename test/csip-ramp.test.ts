import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseResource, type DefaultDERControl, type DERControl } from '../src/csip/resources.js';
import { activeLimits, type LimitValues, type ProgramInput } from '../src/csip/schedule.js';
import { anticipate, RAMP_START, rampTmsLookup, setGradWInForce, stepRamp, type RampedQuantity, type RampState } from '../src/csip/ramp.js';
import { controlItem, defaultXml, listXml, type ControlSpec } from './helpers/csip-fixtures.js';

// The utility's ramp (src/csip/ramp.ts) stepped once a second over schedules made of example
// resources: what is applied each second, as the site's runtime writes it into utility/*.

const T0 = 1782864000; // 2026-07-01T00:00:00Z
const SEED = '3E4F45AB31EDFE5B67E343E5E4562E31984E23E5';
const RATED = 5000;

const controls = (...specs: ControlSpec[]): DERControl[] => parseResource('DERControlList', listXml('DERControlList', specs.map(controlItem))).DERControl;
const dflt = (base: Record<string, number | boolean>, setGradW: number | null = 27): DefaultDERControl =>
  parseResource('DefaultDERControl', defaultXml('A1', base, setGradW));
const program = (cs: DERControl[], d?: DefaultDERControl): ProgramInput[] => [{ mRID: 'A1', primacy: 1, controls: cs, defaultControl: d }];

/** The value applied for `q` each second from `from` to `to` (s after T0), rounded; '-' when none. */
function run(
  programs: ProgramInput[],
  from: number,
  to: number,
  o: { q?: RampedQuantity; ratedW?: number | undefined; bridgeGapS?: number; fallback?: LimitValues } = {},
): (number | '-')[] {
  const q = o.q ?? 'opModExpLimW';
  let st: RampState = RAMP_START;
  const out: (number | '-')[] = [];
  for (let t = from; t <= to; t++) {
    const r = stepRamp(st, {
      nowMs: (T0 + t) * 1000,
      limits: activeLimits({ programs, seed: SEED, fallback: o.fallback ?? {} }, T0 + t).limits,
      setGradW: setGradWInForce(programs),
      rampTmsOf: rampTmsLookup(programs),
      ratedW: 'ratedW' in o ? o.ratedW : RATED,
      bridgeGapMs: (o.bridgeGapS ?? 30) * 1000,
    });
    st = r.state;
    const v = r.limits[q]?.value;
    out.push(typeof v === 'number' ? Math.round(v) : '-');
  }
  return out;
}

test('table: which changes ramp, at what rate', async (t) => {
  const cases: { name: string; programs: ProgramInput[]; from: number; to: number; want: (number | '-')[]; ratedW?: number | undefined; q?: RampedQuantity }[] =
    [
      {
        name: 'a raise ramps at setGradW: 1000 = 10 %/s of 5 kW = 500 W/s, from the next second on',
        programs: program(controls({ mRID: 'E1', start: T0, duration: 10, base: { opModExpLimW: 1500 } }), dflt({ opModExpLimW: 5000 }, 1000)),
        from: 9,
        to: 18,
        want: [1500, 1500, 2000, 2500, 3000, 3500, 4000, 4500, 5000, 5000],
      },
      {
        name: 'setGradW unset: 27 (0.27 %/s of 5 kW = 13.5 W/s)',
        programs: program(controls({ mRID: 'E1', start: T0, duration: 10, base: { opModExpLimW: 1500 } }), dflt({ opModExpLimW: 5000 }, null)),
        from: 9,
        to: 13,
        want: [1500, 1500, 1514, 1527, 1541],
      },
      {
        name: 'a lower limit applies at once, whatever the ramp',
        programs: program(controls({ mRID: 'E1', start: T0 + 2, duration: 10, base: { opModExpLimW: 1500 } }), dflt({ opModExpLimW: 5000 }, 27)),
        from: 0,
        to: 3,
        want: [5000, 5000, 1500, 1500],
      },
      {
        name: "an event's rampTms wins over setGradW: 0 W to 1.5 kW in 60 s (25 W/s), as CACTUS ALL-25 asks",
        programs: program(controls({ mRID: 'E1', start: T0 + 1, duration: 120, base: { opModExpLimW: 1500, rampTms: 6000 } }), dflt({ opModExpLimW: 0 }, 100)),
        from: 0,
        to: 63,
        want: [0, 0, ...Array.from({ length: 60 }, (_, i) => 25 * (i + 1)), 1500, 1500],
      },
      {
        name: 'setGradW 0: no ramp limit, a raise applies at once',
        programs: program(controls({ mRID: 'E1', start: T0, duration: 10, base: { opModExpLimW: 1500 } }), dflt({ opModExpLimW: 5000 }, 0)),
        from: 9,
        to: 11,
        want: [1500, 5000, 5000],
      },
      {
        name: 'no rating known: a W limit cannot ramp by setGradW and rises at once',
        programs: program(controls({ mRID: 'E1', start: T0, duration: 10, base: { opModExpLimW: 1500 } }), dflt({ opModExpLimW: 5000 }, 1000)),
        from: 9,
        to: 11,
        ratedW: undefined,
        want: [1500, 5000, 5000],
      },
      {
        name: 'a limit that goes away rises to the rating at the ramp, then is dropped',
        programs: program(controls({ mRID: 'E1', start: T0, duration: 10, base: { opModExpLimW: 3000 } }), dflt({}, 1000)),
        from: 9,
        to: 16,
        want: [3000, 3000, 3500, 4000, 4500, '-', '-', '-'],
      },
      {
        name: 'MaxLimitPct ramps in % per second, no rating needed (setGradW 500 = 5 %/s)',
        programs: program(controls({ mRID: 'E1', start: T0, duration: 10, base: { opModMaxLimW: 3000 } }), dflt({ opModMaxLimW: 5000 }, 500)),
        from: 9,
        to: 15,
        q: 'opModMaxLimW',
        ratedW: undefined,
        want: [30, 30, 35, 40, 45, 50, 50],
      },
      {
        name: 'reconnection ramps generation back from 0 % (MaxLimitPct), then the limit is dropped',
        programs: program(controls({ mRID: 'E1', start: T0, duration: 5, base: { opModConnect: false } }), dflt({}, 2500)),
        from: 3,
        to: 11,
        q: 'opModMaxLimW',
        want: ['-', '-', 0, 25, 50, 75, '-', '-', '-'],
      },
    ];
  for (const c of cases)
    await t.test(c.name, () => {
      assert.deepEqual(run(c.programs, c.from, c.to, { ...(c.q ? { q: c.q } : {}), ...('ratedW' in c ? { ratedW: c.ratedW } : {}) }), c.want);
    });
});

test('a gap between two events does not cause a ramp (open-dynamic-export issue 75)', async (t) => {
  // E1 and E2 both 10 kW... of a 12 kW site, 4 s apart, as a server that leaves gaps sends them.
  const events = controls(
    { mRID: 'E1', start: T0, duration: 100, base: { opModExpLimW: 10_000 } },
    { mRID: 'E2', start: T0 + 104, duration: 100, base: { opModExpLimW: 10_000 } },
  );
  const o = { ratedW: 12_000 };
  await t.test('a tighter default in the gap is obeyed, and the way back is not ramped', () => {
    const got = run(program(events, dflt({ opModExpLimW: 1500 }, 27)), 98, 108, o);
    assert.deepEqual(got, [10_000, 10_000, 1500, 1500, 1500, 1500, 10_000, 10_000, 10_000, 10_000, 10_000]);
  });
  await t.test('a looser default in the gap moves the limit only by the ramp over the gap, then back at once', () => {
    const got = run(program(events, dflt({ opModExpLimW: 20_000 }, 27)), 98, 106, o);
    // 0.27 %/s of 12 kW = 32.4 W/s for the 3 s the gap is ramping.
    assert.deepEqual(got, [10_000, 10_000, 10_000, 10_032, 10_065, 10_097, 10_000, 10_000, 10_000]);
  });
  await t.test('contiguous events leave no gap: nothing moves', () => {
    const contiguous = controls(
      { mRID: 'E1', start: T0, duration: 100, base: { opModExpLimW: 10_000 } },
      { mRID: 'E2', start: T0 + 100, duration: 100, base: { opModExpLimW: 10_000 } },
    );
    assert.deepEqual(run(program(contiguous, dflt({ opModExpLimW: 1500 }, 27)), 98, 102, o), [10_000, 10_000, 10_000, 10_000, 10_000]);
  });
  await t.test('a gap longer than bridgeGapS is a real change: the way back ramps', () => {
    const far = controls(
      { mRID: 'E1', start: T0, duration: 100, base: { opModExpLimW: 10_000 } },
      { mRID: 'E2', start: T0 + 140, duration: 100, base: { opModExpLimW: 10_000 } },
    );
    const got = run(program(far, dflt({ opModExpLimW: 1500 }, 27)), 139, 142, o);
    assert.deepEqual(got, [1500, 1500, 1532, 1565]);
  });
  await t.test('back in a bridged gap only up to the level before it; above it ramps', () => {
    const up = controls(
      { mRID: 'E1', start: T0, duration: 100, base: { opModExpLimW: 8000 } },
      { mRID: 'E2', start: T0 + 104, duration: 100, base: { opModExpLimW: 10_000 } },
    );
    const got = run(program(up, dflt({ opModExpLimW: 1500 }, 1000)), 99, 107, o);
    // 10 %/s of 12 kW = 1200 W/s above the 8 kW E1 left.
    assert.deepEqual(got, [8000, 1500, 1500, 1500, 1500, 8000, 9200, 10_000, 10_000]);
  });
});

test('setGradW in force: the lowest-primacy default that sets one, else 27', () => {
  const d = (g: number | null): DefaultDERControl => dflt({ opModExpLimW: 5000 }, g);
  assert.equal(setGradWInForce([]), 27);
  assert.equal(setGradWInForce([{ mRID: 'A', primacy: 1, controls: [], defaultControl: d(null) }]), 27);
  assert.equal(
    setGradWInForce([
      { mRID: 'B', primacy: 2, controls: [], defaultControl: d(600) },
      { mRID: 'A', primacy: 1, controls: [], defaultControl: d(100) },
    ]),
    100,
  );
});

test('anticipation: a tighter limit starting within the lead applies now, a looser one and the switches wait', () => {
  const programs = program(
    controls(
      { mRID: 'E1', start: T0 + 10, duration: 10, base: { opModExpLimW: 1500, opModConnect: false } },
      { mRID: 'E2', start: T0 + 20, duration: 10, base: { opModExpLimW: 4000 } },
    ),
    dflt({ opModExpLimW: 3000, opModGenLimW: 2000 }),
  );
  const at = (t: number) => activeLimits({ programs, seed: SEED }, T0 + t).limits;
  const show = (t: number, lead: number): string => {
    const l = anticipate(at(t), at(t + lead));
    const e = l.opModExpLimW;
    return `${String(e?.value)}@${e?.source.kind === 'event' ? e.source.eventMRID : String(e?.source.kind)} connect ${String(l.opModConnect?.value)}`;
  };
  assert.equal(show(7, 2), '3000@default connect undefined', 'E1 is 3 s away');
  assert.equal(show(8, 2), '1500@E1 connect undefined', "E1's lower export limit 2 s early; its disconnect at its start");
  assert.equal(show(18, 2), '1500@E1 connect false', "E2's higher limit is not taken early");
  assert.equal(anticipate(at(8), at(10)).opModGenLimW?.value, 2000, 'a quantity the later one leaves as it is');
});
