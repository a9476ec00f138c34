import { test } from 'node:test';
import assert from 'node:assert/strict';
import { invoiceCsv } from '../src/billing/invoice-csv.js';
import type { Invoice } from '../src/billing/postpaid.js';
import { parseCsv } from '../src/commissioning/inventory/csv-format.js';
import { csvText, readingsCsv } from '../src/store/csv-export.js';
import { ReadingWriter } from '../src/store/reading-writer.js';
import { csvCell, restoreFormulaText } from '../src/util/csv.js';
import { tempDb } from './helpers/temp-db.js';

/** What an attacker types into a field that ends up in a CSV (OWASP CSV injection examples). */
const FORMULAS = ["=cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", '+1+1', '-2+3', '\t=1+1', '\r=1+1'];

test('the shared encoder puts a quote before formula text and leaves numbers and plain text alone; import takes it off again', () => {
  for (const f of FORMULAS) {
    const encoded = csvCell(f);
    const [cell] = parseCsv(encoded)[0]?.fields ?? [];
    assert.equal(cell, `'${f}`, `${JSON.stringify(f)} is neutralised`);
    assert.equal(restoreFormulaText(cell), f, `${JSON.stringify(f)} round-trips`);
  }
  for (const n of ['-12.5', '+3', '-0', '1e-3', '-.5']) assert.equal(csvCell(n), n, `${n} stays a number`);
  assert.equal(csvCell(-12.5), '-12.5');
  assert.equal(csvCell('Floor 1, reception'), '"Floor 1, reception"');
  // A quote the user typed is kept through export and import, with or without a formula after it.
  for (const typed of ["'hello", "'=1+1", "''@x"]) assert.equal(restoreFormulaText(parseCsv(csvCell(typed))[0]?.fields[0] ?? ''), typed);
});

test('the readings CSV neutralises a formula in its text cell and keeps negative values as numbers', (t) => {
  const db = tempDb(t);
  const w = new ReadingWriter(db);
  w.add({ meter: 'meter10', ts: Date.parse('2026-04-04T12:15:00Z'), values: { Voltage_L1: 230, ActivePower: -490, ReactivePower: -150 } });
  w.flush();
  const rows = parseCsv(csvText(readingsCsv(db, 'meter10', '2026-04-04', 'UTC', { meterLabel: '=cmd|x!A0' })));
  const row = rows[1]?.fields ?? [];
  assert.equal(row[1], "'=cmd|x!A0");
  assert.equal(row[8], '-0.49', 'P_total_kW stays a negative number');
  assert.equal(row[12], '-0.15', 'Q_total_kvar stays a negative number');
});

test('the invoice CSV neutralises customer ids and descriptions and keeps negative amounts as numbers', () => {
  const inv: Invoice = {
    id: 7,
    customerId: '@SUM(A1:A9)',
    month: '2026-04',
    bill: {
      currency: 'UGX',
      lines: [
        {
          kind: 'energy',
          description: "=cmd|' /C calc'!A0",
          quantityKWh: 1.5,
          unitPrice: 2_500_000,
          amountMinor: 375 as Invoice['totalMinor'],
          tariffVersion: 1,
        },
        { kind: 'fee', description: '+1+1', amountMinor: -125 as Invoice['totalMinor'], tariffVersion: 1 },
      ],
      totalMinor: 250 as Invoice['totalMinor'],
    },
    totalMinor: 250 as Invoice['totalMinor'],
    txId: 1,
    issuedMs: 0,
  };
  const rows = parseCsv(invoiceCsv(inv)).map((r) => r.fields);
  assert.equal(rows[1]?.[1], "'@SUM(A1:A9)");
  assert.equal(rows[1][4], "'=cmd|' /C calc'!A0");
  assert.equal(rows[2]?.[4], "'+1+1");
  assert.equal(rows[2][8], '-125', 'a credit stays a negative number');
  assert.equal(rows[3]?.[8], '250');
});
