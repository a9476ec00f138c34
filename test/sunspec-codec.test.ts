import assert from 'node:assert/strict';
import { test } from 'node:test';
import path from 'node:path';
import { decodeModel, decodePoint, encodeModel, encodePoint, scale } from '../src/sunspec/codec.js';
import { loadModels, standardModels } from '../src/sunspec/model-schema.js';
import { fromRoot } from '../src/util/paths.js';

/** The codec against register images built by hand (words as a device would hold them). */

const defs = standardModels();
const def = (id: number) => defs.get(id) ?? assert.fail(`no model ${id}`);

test('every vendored model file passes the schema, and the fixed lengths match the SunSpec tables', () => {
  const all = loadModels(fromRoot('sunspec-models'));
  for (const id of [1, 101, 102, 103, 111, 112, 113, 120, 121, 122, 123, 124, 201, 202, 203, 204, 701, 702, 703, 704, 705, 802])
    assert.ok(all.has(id), `model ${id}`);
  // L of the fixed part, summed from the SunSpec JSON: 704 adds its four 2-register PF groups to its 57.
  const expected: Record<number, number> = { 1: 66, 101: 50, 103: 50, 120: 26, 121: 30, 122: 44, 123: 24, 124: 24, 203: 105, 701: 153, 702: 50, 704: 65 };
  for (const [id, l] of Object.entries(expected)) assert.equal(all.get(Number(id))?.fixedLength, l, `L of model ${id}`);
  assert.equal(path.basename(fromRoot('sunspec-models', 'LICENSE')), 'LICENSE');
});

test('points: signed, sentinels for not implemented, acc32, float32 NaN, strings', () => {
  assert.equal(decodePoint('int16', 1, [0xfff6], 0), -10);
  assert.equal(decodePoint('int16', 1, [0x8000], 0), null);
  assert.equal(decodePoint('uint16', 1, [0xffff], 0), null);
  assert.equal(decodePoint('enum16', 1, [0xffff], 0), null);
  assert.equal(decodePoint('bitfield16', 1, [0xffff], 0), null);
  assert.equal(decodePoint('sunssf', 1, [0xfffe], 0), -2);
  assert.equal(decodePoint('sunssf', 1, [0x8000], 0), null);
  assert.equal(decodePoint('int32', 2, [0x8000, 0x0000], 0), null);
  assert.equal(decodePoint('int32', 2, [0xffff, 0xfffe], 0), -2);
  assert.equal(decodePoint('uint32', 2, [0xffff, 0xffff], 0), null);
  assert.equal(decodePoint('bitfield32', 2, [0xffff, 0xffff], 0), null);
  assert.equal(decodePoint('acc32', 2, [0x0001, 0x0002], 0), 65538);
  assert.equal(decodePoint('acc32', 2, [0, 0], 0), null, 'an accumulator of 0 is not implemented');
  assert.equal(decodePoint('acc64', 4, [0, 0, 0x0001, 0x0000], 0), 65536);
  assert.equal(decodePoint('uint64', 4, [0xffff, 0xffff, 0xffff, 0xffff], 0), null);
  assert.equal(decodePoint('float32', 2, [0x7fc0, 0x0000], 0), null);
  assert.equal(decodePoint('float32', 2, [0x4366, 0x199a], 0), Math.fround(230.1));
  assert.equal(decodePoint('string', 4, [0x5375, 0x6e53, 0x2d31, 0x0000], 0), 'SunS-1');
  assert.equal(decodePoint('string', 2, [0, 0], 0), null);
  assert.equal(decodePoint('pad', 1, [0x1234], 0), null);
  for (const [t, size, v] of [
    ['int16', 1, -5],
    ['uint32', 2, 70000],
    ['int32', 2, -70000],
    ['acc64', 4, 123456789],
    ['float32', 2, 0.5],
    ['string', 8, 'mgos'],
  ] as const) {
    assert.equal(decodePoint(t, size, encodePoint(t, size, v), 0), v, `${t} round trip`);
  }
  assert.deepEqual(encodePoint('int16', 1, null), [0x8000]);
  assert.deepEqual(encodePoint('uint32', 2, null), [0xffff, 0xffff]);
  assert.equal(scale(2301, -1), 230.1);
  assert.equal(scale(12, 3), 12000);
});

test('model 103 by hand: scale factors by name, a negative SF, not-implemented points are null', () => {
  const w = new Array<number>(52).fill(0);
  w[0] = 103;
  w[1] = 50;
  // A=1234, AphA..C, A_SF=-2 (offsets 2-6)
  w[2] = 1234;
  w[3] = 411;
  w[4] = 412;
  w[5] = 0xffff;
  w[6] = 0xfffe;
  // PhVphA..C at 10..12, V_SF at 13 = -1
  w[7] = 0xffff;
  w[8] = 0xffff;
  w[9] = 0xffff;
  w[10] = 2304;
  w[11] = 2311;
  w[12] = 2296;
  w[13] = 0x8000; // V_SF not implemented -> the voltages are null
  w[14] = 0xfe0c;
  w[15] = 1; // W = -500 × 10^1
  w[16] = 5002;
  w[17] = 0xfffe; // Hz 50.02
  w[18] = 0x8000;
  w[19] = 0; // VA not implemented
  w[24] = 0x0001;
  w[25] = 0x86a0;
  w[26] = 0; // WH acc32 100000 Wh
  w[38] = 4; // St MPPT
  const m = decodeModel(def(103), w);
  assert.equal(m.id, 103);
  assert.equal(m.length, 50);
  assert.equal(m.values['A'], 12.34);
  assert.equal(m.values['AphC'], null, 'uint16 0xFFFF');
  assert.equal(m.values['PhVphA'], null, 'SF not implemented');
  assert.equal(m.raw['PhVphA'], 2304);
  assert.equal(m.values['W'], -5000);
  assert.equal(m.values['Hz'], 50.02);
  assert.equal(m.values['VA'], null);
  assert.equal(m.values['WH'], 100000);
  assert.equal(m.values['St'], 4);
  assert.equal(m.values['DCA'], 0, 'DCA 0 with DCA_SF 0');
  assert.throws(() => decodeModel(def(123), w), /model 103, not 123/);
});

test('model 1 strings and 705 repeating groups round trip through the encoder', () => {
  const common = decodeModel(def(1), encodeModel(def(1), { values: { Mn: 'mgos-sim', Md: 'PV 5k', SN: 'X1', DA: 3 } }));
  assert.equal(common.length, 66);
  assert.equal(common.values['Mn'], 'mgos-sim');
  assert.equal(common.values['Opt'], null);
  assert.equal(common.values['DA'], 3);
  const vv = encodeModel(def(705), {
    values: { NPt: 2, NCrv: 2, V_SF: -1, DeptRef_SF: 0 },
    groups: {
      Crv: [0, 1].map((c) => ({
        values: { ActPt: 2, VRef: 230 },
        groups: { Pt: [{ values: { V: 207.5 + c, Var: 40 } }, { values: { V: 253.5, Var: -40 } }] },
      })),
    },
  });
  const m = decodeModel(def(705), vv);
  assert.equal(m.length, def(705).fixedLength + 2 * (10 + 2 * 2));
  const crv = m.groups['Crv'] ?? [];
  assert.equal(crv.length, 2);
  const second = crv[1] ?? assert.fail('no second curve');
  assert.equal(second.values['VRef'], 230);
  assert.deepEqual(
    second.groups['Pt']?.map((p) => [p.values['V'], p.values['Var']]),
    [
      [208.5, 40],
      [253.5, -40],
    ],
  );
});

test('every vendored model encodes with nothing implemented and decodes to nulls at its fixed length', () => {
  for (const [id, d] of defs) {
    const words = encodeModel(d, { values: {} });
    assert.equal(words[1], d.fixedLength, `L of model ${id}`);
    const m = decodeModel(d, words);
    const implemented = Object.entries(m.values).filter(([k, v]) => v !== null && k !== 'ID' && k !== 'L');
    assert.deepEqual(implemented, [], `model ${id}: nothing is implemented`);
  }
});

test('float model 113 and the storage model 124 decode their values', () => {
  const inv = decodeModel(def(113), encodeModel(def(113), { values: { W: 4321.5, Hz: 49.98, WH: 1.5e6, St: 4 } }));
  assert.equal(inv.values['W'], 4321.5);
  assert.equal(inv.values['Hz'], Math.fround(49.98));
  assert.equal(inv.values['WH'], 1.5e6);
  assert.equal(inv.values['VA'], null, 'NaN');
  const st = decodeModel(
    def(124),
    encodeModel(def(124), { values: { WChaMax: 5000, WChaMax_SF: 1, ChaState: 55.5, ChaState_SF: -1, InWRte: -25, InOutWRte_SF: 0 } }),
  );
  assert.equal(st.raw['WChaMax'], 500);
  assert.equal(st.values['WChaMax'], 5000);
  assert.equal(st.values['ChaState'], 55.5);
  assert.equal(st.values['InWRte'], -25);
});
