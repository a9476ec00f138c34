import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commissioningConfigSchema } from '../src/commissioning/commissioning-config.js';
import { CsvSyntaxError, csvLine, parseCsv } from '../src/commissioning/inventory/csv-format.js';
import { INVENTORY_CSV_HEADER, inventoryCsv } from '../src/commissioning/inventory/csv.js';
import { importInventoryCsv, InventoryImportError, type CsvRowError } from '../src/commissioning/inventory/csv-import.js';
import { InventoryStore } from '../src/commissioning/inventory/store.js';
import { tempDb } from './helpers/temp-db.js';

const TZ = 'Africa/Kampala';
const SEED_HEADER =
  'Meter Serial Number,Meter Type,Site Name,Building/Customer,Assigned Modbus Address,Status,Date Assigned,Date Converted,Date Installed,Date Commissioned,Converted By,Installed By,Commissioned By,Notes';
const T0 = Date.parse('2026-04-01T06:30:00Z');
const DAY = 86_400_000;

function newStore(t: { after: (fn: () => void) => void }, clock = { now: T0 }) {
  return new InventoryStore(tempDb(t), {
    commissioning: commissioningConfigSchema.parse({}),
    localSite: 'Office Building A',
    buses: ['main'],
    configured: () => [{ site: 'Office Building A', bus: 'main', address: 50, by: 'configured meter shop50 (id 50)' }],
    now: () => clock.now,
  });
}

const csvOf = (store: InventoryStore): string => inventoryCsv(store.list(), TZ);
const lines = (...rows: string[]): string => rows.map((r) => `${r}\r\n`).join('');

test('RFC 4180 parsing: quotes, doubled quotes, line breaks in fields, CRLF/LF/CR, BOM, last line without a break', () => {
  assert.deepEqual(
    parseCsv('\uFEFFa,b,c\r\n"x, y","say ""hi""",""\r\n"two\r\nlines",2,3\n4,5,6\r7,8,9').map((r) => [r.line, r.fields]),
    [
      [1, ['a', 'b', 'c']],
      [2, ['x, y', 'say "hi"', '']],
      [3, ['two\r\nlines', '2', '3']],
      [5, ['4', '5', '6']],
      [6, ['7', '8', '9']],
    ],
  );
  assert.deepEqual(parseCsv(''), []);
  assert.deepEqual(parseCsv('a,\r\n'), [{ line: 1, fields: ['a', ''] }]);
  assert.deepEqual(parseCsv('""'), [{ line: 1, fields: [''] }]);
  assert.deepEqual(
    parseCsv('a\r\n\r\nb\r\n').map((r) => r.fields),
    [['a'], [''], ['b']],
    'a blank line is an empty record',
  );
});

test('RFC 4180 errors name the line and the fix', () => {
  const bad: Array<[string, RegExp]> = [
    ['a,b\r\n"open,c\r\nd', /^line 2: a quoted field is never closed/],
    ['a,b\r\nx,he said "no"', /^line 2: a quote inside an unquoted field; quote the whole field and write the quote as ""/],
    ['"a"b,c', /^line 1: text after a closing quote/],
  ];
  for (const [text, message] of bad)
    assert.throws(
      () => parseCsv(text),
      (e: unknown) => e instanceof CsvSyntaxError && message.test(e.message),
    );
});

test('writing then reading any text gives it back', () => {
  const nasty = ['', 'plain', 'a,b', '"quoted"', 'line\nbreak', 'cr\r\nlf', ' spaces ', ',', '""', 'ü 漢字'];
  const text = [csvLine(nasty), csvLine([...nasty].reverse())].join('\r\n');
  assert.deepEqual(
    parseCsv(text).map((r) => r.fields),
    [nasty, [...nasty].reverse()],
  );
});

test('the export has the seed spreadsheet header exactly, and hand-checked rows with local dates', (t) => {
  const clock = { now: T0 };
  const store = newStore(t, clock);
  assert.equal(INVENTORY_CSV_HEADER, SEED_HEADER);
  assert.equal(csvOf(store), `${SEED_HEADER}\r\n`);
  store.create({ serial: '200322016690', model: 'DDSU666', building: 'Floor 1 Reception', address: 2 }, 'dev');
  store.create(
    { serial: '200415023456', model: 'DTSU666', building: 'Main 3-Phase Supply', address: 100, notes: 'Required reverse byte toggle, "twice"' },
    'dev',
  );
  store.create({ serial: '200322016692', model: 'DDSU666' }, 'dev');
  clock.now = Date.parse('2026-04-02T21:30:00Z'); // 00:30 on 3 April in Kampala
  store.transition('200415023456', { to: 'Converted', reason: 'lab', bus: 'main' }, 'jane');
  store.transition('200415023456', { to: 'Shipped', reason: 'courier' }, 'jane');
  store.transition('200415023456', { to: 'Installed', reason: 'wired' }, 'john');
  store.transition('200415023456', { to: 'Commissioned', reason: 'logging' }, 'alice');
  assert.equal(
    csvOf(store),
    lines(
      SEED_HEADER,
      '200322016690,DDSU666,Office Building A,Floor 1 Reception,2,Assigned,2026-04-01,,,,,,,',
      '200322016692,DDSU666,Office Building A,,,Unassigned,,,,,,,,',
      '200415023456,DTSU666,Office Building A,Main 3-Phase Supply,100,Commissioned,2026-04-01,2026-04-03,2026-04-03,2026-04-03,jane,john,alice,"Required reverse byte toggle, ""twice"""',
    ),
  );
});

test('round trip: export -> import into an empty store -> export is identical', (t) => {
  const clock = { now: T0 };
  const a = newStore(t, clock);
  a.create({ serial: '200322016690', model: 'DDSU666', building: 'Floor 1, Reception', address: 2, notes: 'line one\nline "two"' }, 'dev');
  a.create({ serial: '200322016691', model: 'DDSU666', site: 'Clinic B', building: 'Pharmacy', address: 2 }, 'dev');
  a.create({ serial: '200322016692', model: 'DDSU666', notes: '=not a formula' }, 'dev');
  a.create({ serial: '200415023456', model: 'DTSU666', address: 100 }, 'dev');
  a.create({ serial: '200322016693', model: 'DDSU666', address: 3 }, 'dev');
  clock.now += 3 * DAY;
  for (const to of ['Converted', 'Shipped', 'Installed', 'Commissioned'] as const)
    a.transition('200415023456', { to, reason: 'go', bus: to === 'Installed' ? 'main' : undefined }, `user_${to.toLowerCase()}`);
  a.transition('200322016693', { to: 'Decommissioned', reason: 'damaged in transit' }, 'admin');
  const first = csvOf(a);

  const b = newStore(t, { now: T0 + 10 * DAY });
  assert.deepEqual(importInventoryCsv(b, first, 'importer', TZ), { created: 5, updated: 0 });
  assert.equal(csvOf(b), first);
  assert.deepEqual(
    b.history('200415023456').map((e) => [e.action, e.by, e.from, e.to, e.reason]),
    [['imported', 'importer', null, 'Commissioned', 'imported from CSV']],
  );

  // Importing the same file again changes no value, but the audit trail still says who imported it.
  assert.deepEqual(importInventoryCsv(b, first, 'importer2', TZ), { created: 0, updated: 5 });
  assert.equal(csvOf(b), first);
  const again = b.history('200415023456').at(-1);
  assert.deepEqual(again && [again.action, again.by, again.changes], ['imported', 'importer2', {}]);
});

test('a seed-style sheet imports: leading-zero addresses, any-case types and statuses, trailing blank rows', (t) => {
  const store = newStore(t);
  const sheet = lines(
    SEED_HEADER,
    '200322016690,DDSU666,Office Building A,Floor 1 Reception,02,Assigned,2026-04-01,,,,,,,',
    '200322016691,ddsu666,Office Building A,Floor 1 Office,03,converted,2026-04-01,2026-04-02,,,Jane Doe,,,',
    '200415023456,DTSU666,Office Building A,Main 3-Phase Supply,100,Commissioned,2026-04-01,2026-04-02,2026-04-03,2026-04-04,Jane Doe,John Smith,Alice Johnson,Required reverse byte toggle',
    ',,,,,,,,,,,,,',
  );
  assert.deepEqual(importInventoryCsv(store, sheet, 'dev', TZ), { created: 3, updated: 0 });
  const m = store.require('200322016691');
  assert.equal(m.address, 3);
  assert.equal(m.status, 'Converted');
  assert.deepEqual(m.stages.Converted, { at: Date.parse('2026-04-01T21:00:00Z'), by: 'Jane Doe' }, 'midnight in Kampala');
  assert.equal(store.require('200415023456').stages.Commissioned?.by, 'Alice Johnson');
});

test('a bad file reports every bad row with its column and the fix, and changes nothing', (t) => {
  const store = newStore(t);
  store.create({ serial: '200322016699', model: 'DDSU666', address: 7, notes: 'before' }, 'dev');
  const before = csvOf(store);
  const historyBefore = store.history('200322016699');
  const bad = lines(
    SEED_HEADER,
    '20032201669,DDSU666,Office Building A,,5,Assigned,,,,,,,,', // 2: 11-digit serial
    '200322016691,DDSU777,Office Building A,,6,Assigned,,,,,,,,', // 3: unknown type
    '200322016692,DDSU666,Office Building A,,8,Delivered,,,,,,,,', // 4: unknown status
    '200322016693,DDSU666,Office Building A,,120,Assigned,,,,,,,,', // 5: three-phase address on a single-phase meter
    '200322016694,DTSU666,Office Building A,,101,Assigned,,,,,,,,', // 6: fine
    '200322016695,DTSU666,Office Building A,,101,Assigned,,,,,,,,', // 7: same address as row 6
    '200322016696,DDSU666,Office Building A,,50,Assigned,,,,,,,,', // 8: held by a configured meter
    '200322016697,DDSU666,Office Building A,,7,Assigned,,,,,,,,', // 9: held by 200322016699 in the store
    '200322016698,DDSU666,Office Building A,,1,Assigned,01/04/2026,,,,,,,', // 10: address 1 and a bad date
    '200322016694,DTSU666,Clinic B,,,Unassigned,,,,,,,,', // 11: serial again
    '200322016680,DDSU666,Office Building A,,,Converted,,,,,Jane,,,', // 12: no address; name without date
    '200322016681,DDSU666,Office Building A,,9,Unassigned,,,,,,,,', // 13: Unassigned with an address
    '200322016682,DDSU666,Office Building A,,x9,Assigned,,,,,,,,', // 14: not a number
    '200322016683,DDSU666,Office Building A,,9,Assigned,,,,', // 15: short row
  );
  let errors: readonly CsvRowError[] = [];
  assert.throws(
    () => importInventoryCsv(store, bad, 'dev', TZ),
    (e: unknown) => {
      assert.ok(e instanceof InventoryImportError);
      errors = e.errors;
      assert.match(e.message, /^nothing was imported; \d+ problems: row 2, Meter Serial Number: serial "20032201669" has 11 digits/);
      return true;
    },
  );
  const got = errors.map((e) => [e.row, e.column]);
  assert.deepEqual(got, [
    [2, 'Meter Serial Number'],
    [3, 'Meter Type'],
    [4, 'Status'],
    [5, 'Assigned Modbus Address'],
    [7, 'Assigned Modbus Address'],
    [8, 'Assigned Modbus Address'],
    [9, 'Assigned Modbus Address'],
    [10, 'Assigned Modbus Address'],
    [10, 'Date Assigned'],
    [11, 'Meter Serial Number'],
    [12, 'Assigned Modbus Address'],
    [12, 'Date Converted'],
    [13, 'Assigned Modbus Address'],
    [14, 'Assigned Modbus Address'],
    [15, null],
  ]);
  const msg = (row: number, i = 0) => errors.filter((e) => e.row === row)[i]?.message ?? '';
  assert.match(msg(2), /a meter serial is exactly 12 digits/);
  assert.match(msg(3), /unknown meter type "DDSU777"; allowed: DDSU666, DTSU666/);
  assert.match(msg(4), /unknown status "Delivered"; allowed: Unassigned, Assigned, Converted, Shipped, Installed, Commissioned, Decommissioned/);
  assert.match(msg(5), /address 120 is outside the single-phase range; a single-phase meter uses 2-99/);
  assert.match(msg(7), /address 101 is already used on bus main of Office Building A by row 6 \(meter 200322016694\); the next free one is 100/);
  assert.match(msg(8), /by configured meter shop50 \(id 50\)/);
  assert.match(msg(9), /by inventory meter 200322016699 \(Assigned\)/);
  assert.match(msg(10), /address 1 is the factory default/);
  assert.match(msg(10, 1), /not a date; write YYYY-MM-DD/);
  assert.match(msg(11), /serial 200322016694 is also on row 6; each meter appears once/);
  assert.match(msg(12), /a meter that is Converted has an address; fill it in, or set Status to Unassigned/);
  assert.match(msg(12, 1), /Converted By is filled in but Date Converted is empty/);
  assert.match(msg(13), /an Unassigned meter has no address; clear the cell, or set Status to Assigned/);
  assert.match(msg(14), /not a whole number/);
  assert.match(msg(15), /has 10 cells but the header has 14; put a cell containing a comma in double quotes/);

  assert.equal(csvOf(store), before, 'nothing changed');
  assert.deepEqual(store.history('200322016699'), historyBefore);
  assert.equal(store.get('200322016694'), undefined, 'not even the good rows');
});

test('a file may move addresses between its own meters, and updates keep what the sheet does not show', (t) => {
  const store = newStore(t);
  store.create({ serial: '200322016690', model: 'DDSU666', address: 2 }, 'dev');
  store.create({ serial: '200322016691', model: 'DDSU666', address: 3 }, 'dev');
  store.transition('200322016690', { to: 'Converted', reason: 'lab', bus: 'main' }, 'jane');
  const swapped = lines(
    SEED_HEADER,
    '200322016690,DDSU666,Office Building A,,3,Converted,2026-04-01,2026-04-01,,,jane,,,swapped',
    '200322016691,DDSU666,Office Building A,,2,Assigned,2026-04-01,,,,,,,swapped',
  );
  assert.deepEqual(importInventoryCsv(store, swapped, 'dev2', TZ), { created: 0, updated: 2 });
  const m = store.require('200322016690');
  assert.deepEqual([m.address, m.bus, m.notes], [3, 'main', 'swapped'], 'the bus is not in the sheet and is kept');
  assert.deepEqual(m.stages.Converted, { at: T0, by: 'jane' }, 'same day: the stored time is kept');
  assert.deepEqual(m.stages.Unassigned, { at: T0, by: 'dev' });
  const last = store.history('200322016691').at(-1);
  assert.deepEqual(last && [last.action, last.by, last.changes.address, last.changes.notes], ['imported', 'dev2', [3, 2], ['', 'swapped']]);
});

test('a wrong header or broken CSV is refused before any row', (t) => {
  const store = newStore(t);
  const wrongHeader = SEED_HEADER.replace('Site Name', 'Site');
  assert.throws(
    () => importInventoryCsv(store, `${wrongHeader}\r\n`, 'dev'),
    (e: unknown) =>
      e instanceof InventoryImportError && /row 1: the first row must be exactly the header Meter Serial Number,Meter Type,Site Name/.test(e.message),
  );
  assert.throws(
    () => importInventoryCsv(store, '', 'dev'),
    (e: unknown) => e instanceof InventoryImportError && e.errors[0]?.value === '(empty file)',
  );
  assert.throws(
    () => importInventoryCsv(store, `${SEED_HEADER}\r\n200322016690,DDSU666,"Office,,,,,,,,,,,`, 'dev'),
    (e: unknown) => e instanceof InventoryImportError && e.errors[0]?.row === null && /line 2: a quoted field is never closed/.test(e.message),
  );
});
