import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { invoicePdfBuffer, type InvoicePdfInput } from '../src/billing/invoice-pdf.js';
import { LocalCalendar } from '../src/billing/calendar.js';
import { formatMinor, minor } from '../src/billing/money.js';
import { rate } from '../src/billing/rating.js';
import { parseTariff } from '../src/billing/tariff.js';

const TZ = 'Africa/Kampala';
const TARIFF = parseTariff({
  id: 'res',
  name: 'Residential',
  currency: 'UGX',
  versions: [
    {
      version: 1,
      effectiveFrom: '2026-01-01',
      energy: {
        kind: 'block',
        blocks: [
          { upToKWh: 15, priceE4: 250 * 10_000 },
          { upToKWh: null, priceE4: 750 * 10_000 },
        ],
      },
      fixedMonthlyMinor: 3_360,
      taxes: [{ name: 'VAT', rateBp: 1800, base: ['energy', 'fixed'] }],
    },
  ],
});

const has = (cmd: string): boolean => spawnSync(cmd, ['-v']).error === undefined;

function sample(): InvoicePdfInput {
  const [fromMs, toMs] = LocalCalendar.for(TZ).monthRange('2026-10');
  // 0.05 kWh every 15 minutes for the whole month: 148.8 kWh, through both blocks.
  const intervals = [] as Array<{ meterKey: string; startMs: number; kWh: number }>;
  for (let t = fromMs; t < toMs; t += 900_000) intervals.push({ meterKey: 'meter3', startMs: t, kWh: 0.05 });
  const bill = rate(intervals, TARIFF, { fromMs, toMs }, TZ);
  return {
    invoice: { id: 42, customerId: 'c3', month: '2026-10', bill, totalMinor: bill.totalMinor, txId: 7, issuedMs: toMs + 3_600_000 },
    siteName: 'Kalangala Island Mini-grid',
    timeZone: TZ,
    customer: { id: 'c3', name: 'Nakato Shop', phone: '+256772000003' },
    account: 'customer:c3',
    meters: [{ meterKey: 'meter3', kWh: 148.8, intervals: intervals.length }],
    payments: [{ ref: 'payment:cash-1', amountMinor: minor(50_000) }],
    accountBalanceMinor: minor(bill.totalMinor - 50_000),
    printedMs: toMs + 86_400_000,
  };
}

/** Text of a pdfkit page: the hex strings in its uncompressed TJ arrays (WinAnsi, Helvetica). */
function rawText(pdf: Buffer): string {
  const s = pdf.toString('latin1');
  return [...s.matchAll(/\[([^\]]*)\]\s*TJ/g)]
    .map((m) => [...(m[1] ?? '').matchAll(/<([0-9a-f]+)>/gi)].map((h) => Buffer.from(h[1] ?? '', 'hex').toString('latin1')).join(''))
    .join(' ')
    .replace(/\s+/g, ' ');
}

test('invoice PDF: one valid A4 page with every bill line and the totals in UGX without decimals', async () => {
  const d = sample();
  const pdf = await invoicePdfBuffer(d, { compress: false });
  assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
  assert.match(pdf.subarray(-8).toString('latin1'), /%%EOF/);
  assert.equal((pdf.toString('latin1').match(/\/Type \/Page\b/g) ?? []).length, 1, 'exactly one page');
  const text = rawText(pdf);
  const total = formatMinor(d.invoice.totalMinor, 'UGX');
  assert.match(total, /^UGX [\d,]+$/, 'UGX has no decimals');
  assert.ok(text.includes(total), `the total ${total} is on the page:\n${text}`);
  assert.ok(text.includes(formatMinor(minor(d.invoice.totalMinor - 50_000), 'UGX')), 'amount due');
  for (const l of d.invoice.bill.lines) assert.ok(text.includes(l.description), `line "${l.description}" is on the page`);
  for (const s of ['Nakato Shop', '+256772000003', 'customer:c3', '000042', 'October 2026', 'meter3', 'Kalangala Island Mini-grid', 'payment:cash-1'])
    assert.ok(text.includes(s), `"${s}" is on the page`);
  // The compressed default is a valid PDF too, and smaller.
  const compressed = await invoicePdfBuffer(d);
  assert.equal(compressed.subarray(0, 5).toString('latin1'), '%PDF-');
  assert.ok(compressed.length < pdf.length);
});

test('invoice PDF: poppler extracts the text and renders the page', async (t) => {
  if (!has('pdftoppm') || !has('pdftotext')) {
    if (process.env.CI) assert.fail('pdftoppm/pdftotext (poppler-utils) are required in CI');
    t.skip('poppler-utils not installed');
    return;
  }
  const d = sample();
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-invoice-pdf-'));
  const file = path.join(dir, 'invoice.pdf');
  writeFileSync(file, await invoicePdfBuffer(d));
  const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
  assert.ok(text.includes(formatMinor(d.invoice.totalMinor, 'UGX')), text);
  assert.match(text, /Amount due/);
  const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
  assert.match(info, /Pages:\s+1\b/);
  assert.match(info, /595\.2\d* x 841\.8\d* pts \(A4\)/);
  execFileSync('pdftoppm', ['-png', '-r', '60', '-f', '1', '-l', '1', file, path.join(dir, 'page')]);
  const png = readdirSync(dir).find((f) => f.endsWith('.png'));
  assert.ok(png, 'pdftoppm wrote a PNG');
  assert.deepEqual([...readFileSync(path.join(dir, png)).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
});
