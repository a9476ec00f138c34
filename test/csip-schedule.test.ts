import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseResource, type DefaultDERControl, type DERControl } from '../src/csip/resources.js';
import { activeLimits, eventTimelines, randomOffset, responsesDue, ResponseStatus, type ProgramInput } from '../src/csip/schedule.js';
import { controlItem, defaultXml, listXml, type ControlSpec } from './helpers/csip-fixtures.js';

const T0 = 1782864000; // 2026-07-01T00:00:00Z
const SEED = '3E4F45AB31EDFE5B67E343E5E4562E31984E23E5';

const controls = (...specs: ControlSpec[]): DERControl[] => parseResource('DERControlList', listXml('DERControlList', specs.map(controlItem))).DERControl;
const dflt = (id: string, base: Record<string, number | boolean>): DefaultDERControl => parseResource('DefaultDERControl', defaultXml(id, base));
const program = (mRID: string, primacy: number, cs: DERControl[], d?: DefaultDERControl): ProgramInput => ({ mRID, primacy, controls: cs, defaultControl: d });

/** The export limit and its source label at each time. */
function exportAt(programs: ProgramInput[], times: number[], fallback = {}): string[] {
  return times.map((t) => {
    const l = activeLimits({ programs, seed: SEED, fallback }, t).limits.opModExpLimW;
    if (!l) return 'none';
    const s = l.source;
    return `${String(l.value)}@${s.kind === 'event' ? s.eventMRID : s.kind === 'default' ? 'default' : 'fallback'}`;
  });
}

test('an event starts and ends on time; the default before and after, the fallback without one', () => {
  const cs = controls({ mRID: 'E1', start: T0 + 100, duration: 600, base: { opModExpLimW: 1500 } });
  const withDefault = [program('C1', 1, cs, dflt('C1', { opModExpLimW: 5000 }))];
  assert.deepEqual(exportAt(withDefault, [T0, T0 + 99, T0 + 100, T0 + 699, T0 + 700]), ['5000@default', '5000@default', '1500@E1', '1500@E1', '5000@default']);
  assert.deepEqual(exportAt([program('C1', 1, cs)], [T0, T0 + 100, T0 + 700], { opModExpLimW: 3000 }), ['3000@fallback', '1500@E1', '3000@fallback']);
  assert.deepEqual(exportAt([], [T0], { opModExpLimW: 3000 }), ['3000@fallback'], 'never reached the server: the fallback');
  assert.deepEqual(exportAt([], [T0]), ['none']);
});

test('table: overlaps, primacy, creation time, supersession, cancellation, gaps', async (t) => {
  const cases: { name: string; programs: ProgramInput[]; at: [number, string][] }[] = [
    {
      name: 'lower primacy wins across programs, whatever the creation time',
      programs: [
        program('C2', 2, controls({ mRID: 'B1', start: T0, duration: 1000, creationTime: T0 - 10, base: { opModExpLimW: 1000 } })),
        program('C1', 1, controls({ mRID: 'A1', start: T0 + 200, duration: 200, creationTime: T0 - 500, base: { opModExpLimW: 4000 } })),
      ],
      at: [
        [T0 + 100, '1000@B1'],
        [T0 + 250, '4000@A1'],
        [T0 + 400, '1000@B1'],
      ],
    },
    {
      name: 'a lower-primacy event that lasts past the end of another program’s event supersedes it once started',
      programs: [
        program('C2', 2, controls({ mRID: 'B1', start: T0, duration: 1000, creationTime: T0 - 10, base: { opModExpLimW: 1000 } })),
        program('C1', 1, controls({ mRID: 'A1', start: T0 + 200, duration: 1000, creationTime: T0 + 150, base: { opModExpLimW: 4000 } })),
      ],
      at: [
        [T0 + 100, '1000@B1'],
        [T0 + 250, '4000@A1'],
        [T0 + 1100, '4000@A1'],
        [T0 + 1200, 'none'],
      ],
    },
    {
      name: 'same primacy in two programs: the newer creation time wins while both are active',
      programs: [
        program('C1', 1, controls({ mRID: 'A1', start: T0, duration: 1000, creationTime: T0 - 100, base: { opModExpLimW: 1000 } })),
        program('C2', 1, controls({ mRID: 'B1', start: T0 + 300, duration: 1000, creationTime: T0 - 50, base: { opModExpLimW: 2000 } })),
      ],
      at: [
        [T0 + 299, '1000@A1'],
        [T0 + 300, '2000@B1'],
        [T0 + 1100, '2000@B1'],
      ],
    },
    {
      name: 'within a program a newer overlapping event supersedes the older whole',
      programs: [
        program(
          'C1',
          1,
          controls(
            { mRID: 'A1', start: T0, duration: 1000, creationTime: T0 - 100, base: { opModExpLimW: 1000 } },
            { mRID: 'A2', start: T0 + 500, duration: 1000, creationTime: T0 - 50, base: { opModExpLimW: 2000 } },
          ),
          dflt('C1', { opModExpLimW: 5000 }),
        ),
      ],
      at: [
        [T0 + 100, '5000@default'],
        [T0 + 600, '2000@A2'],
      ],
    },
    {
      name: 'server-superseded and cancelled events never apply',
      programs: [
        program(
          'C1',
          1,
          controls(
            { mRID: 'A1', start: T0, duration: 1000, status: 4, base: { opModExpLimW: 1000 } },
            { mRID: 'A2', start: T0 + 2000, duration: 1000, status: 2, base: { opModExpLimW: 2000 } },
          ),
          dflt('C1', { opModExpLimW: 5000 }),
        ),
      ],
      at: [
        [T0 + 100, '5000@default'],
        [T0 + 2100, '5000@default'],
      ],
    },
    {
      name: 'cancelled with randomization ends at the status time (no start offset here)',
      programs: [
        program(
          'C1',
          1,
          controls({ mRID: 'A1', start: T0, duration: 1000, status: 3, statusTime: T0 + 300, base: { opModExpLimW: 1000 } }),
          dflt('C1', { opModExpLimW: 5000 }),
        ),
      ],
      at: [
        [T0 + 299, '1000@A1'],
        [T0 + 300, '5000@default'],
      ],
    },
    {
      name: 'contiguous events: no instant of default at the boundary (no spurious ramp)',
      programs: [
        program(
          'C1',
          1,
          controls(
            { mRID: 'A1', start: T0, duration: 300, base: { opModExpLimW: 1500 } },
            { mRID: 'A2', start: T0 + 300, duration: 300, base: { opModExpLimW: 1500 } },
          ),
          dflt('C1', { opModExpLimW: 5000 }),
        ),
      ],
      at: [
        [T0 + 299.999, '1500@A1'],
        [T0 + 300, '1500@A2'],
        [T0 + 599.5, '1500@A2'],
        [T0 + 600, '5000@default'],
      ],
    },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      assert.deepEqual(
        exportAt(
          c.programs,
          c.at.map(([x]) => x),
        ),
        c.at.map(([, v]) => v),
      );
    });
  }
});

test('each quantity has its own source: an event setting only export leaves import to the default', () => {
  const programs = [
    program(
      'C1',
      1,
      controls({ mRID: 'A1', start: T0, duration: 600, base: { opModExpLimW: 1500, opModConnect: true } }),
      dflt('C1', { opModExpLimW: 5000, opModImpLimW: 7000, opModMaxLimW: 8000 }),
    ),
  ];
  const l = activeLimits({ programs, seed: SEED, fallback: { opModLoadLimW: 20000 } }, T0 + 10).limits;
  assert.equal(l.opModExpLimW?.value, 1500);
  assert.equal(l.opModConnect?.value, true);
  assert.deepEqual(l.opModImpLimW, {
    value: 7000,
    source: { kind: 'default', defaultMRID: 'D00000000000000000000000000000C1', programMRID: 'C1', primacy: 1 },
  });
  assert.equal(l.opModMaxLimW?.value, 80, 'PerCent hundredths to percent');
  assert.deepEqual(l.opModLoadLimW, { value: 20000, source: { kind: 'fallback' } });
  assert.equal(l.opModGenLimW, undefined);
});

test('randomization: within range, whole seconds, fixed per device and event, different across devices', () => {
  for (const range of [60, -60, 1]) {
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const o = randomOffset(SEED, `E${i}`, 'start', range);
      assert.ok(Number.isInteger(o) && Math.abs(o) <= Math.abs(range) && (o === 0 || Math.sign(o) === Math.sign(range)), `${range}: ${o}`);
      seen.add(o);
      assert.equal(randomOffset(SEED, `E${i}`, 'start', range), o, 'deterministic');
    }
    assert.ok(seen.size > Math.min(10, Math.abs(range)), `spread over the range: ${seen.size}`);
  }
  assert.equal(randomOffset(SEED, 'E1', 'start', 0), 0);
  const devices = new Set(Array.from({ length: 20 }, (_, i) => randomOffset(`DEV${i}`, 'E1', 'start', 600)));
  assert.ok(devices.size > 10, 'devices spread out');

  const [c] = controls({ mRID: 'F1', start: T0, duration: 600, randomizeStart: 120, randomizeDuration: -60, base: { opModExpLimW: 1500 } });
  assert.ok(c);
  const rs = randomOffset(SEED, 'F1', 'start', 120);
  const rd = randomOffset(SEED, 'F1', 'duration', -60);
  const [e] = eventTimelines({ programs: [program('C1', 1, [c])], seed: SEED }, T0);
  assert.deepEqual([e?.start, e?.end], [T0 + rs, T0 + rs + 600 + rd]);
  assert.deepEqual(exportAt([program('C1', 1, [c])], [T0 + rs - 1, T0 + rs, T0 + rs + 600 + rd - 1, T0 + rs + 600 + rd], { opModExpLimW: 9 }), [
    '9@fallback',
    '1500@F1',
    '1500@F1',
    '9@fallback',
  ]);
});

test('responses: received, started, completed, cancelled, superseded, expired, invalid, each once', () => {
  const cs = controls(
    { mRID: 'A1', start: T0 + 100, duration: 100, base: { opModExpLimW: 1500 } },
    { mRID: 'A2', start: T0 + 1000, duration: 100, status: 2, base: { opModExpLimW: 1500 } },
    { mRID: 'A3', start: T0 - 500, duration: 100, base: { opModExpLimW: 1500 } },
    { mRID: 'A4', start: T0 + 2000, duration: 100, status: 4, base: { opModExpLimW: 1500 } },
    { mRID: 'A5', start: T0 + 3000, duration: 100, base: { opModGenLimW: -5 } },
  );
  const programs = [program('C1', 1, cs)];
  const memory = new Map<string, { firstSeen: number; sent: Set<number> }>();
  const step = (t: number): string[] => {
    const events = eventTimelines({ programs, seed: SEED }, t);
    for (const e of events) if (!memory.has(e.mRID)) memory.set(e.mRID, { firstSeen: t, sent: new Set() });
    const due = responsesDue(events, memory);
    for (const r of due) memory.get(r.mRID)?.sent.add(r.status);
    return due.map((r) => `${r.mRID}:${r.status}`);
  };
  const S = ResponseStatus;
  assert.deepEqual(step(T0), [
    `A1:${S.EventReceived}`,
    `A2:${S.EventReceived}`,
    `A2:${S.Cancelled}`,
    `A3:${S.EventReceived}`,
    `A3:${S.Expired}`,
    `A4:${S.EventReceived}`,
    `A4:${S.Superseded}`,
    `A5:${S.EventReceived}`,
    `A5:${S.Invalid}`,
  ]);
  assert.deepEqual(step(T0 + 50), [], 'nothing twice');
  assert.deepEqual(step(T0 + 150), [`A1:${S.Started}`]);
  assert.deepEqual(step(T0 + 250), [`A1:${S.Completed}`]);
  assert.deepEqual(step(T0 + 260), []);
});
