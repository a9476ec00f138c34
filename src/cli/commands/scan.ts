import { parseArgs } from 'node:util';
import type { ScanState } from '../../commissioning/discovery/discovery.js';
import { API_OPTIONS_HELP, ApiClient } from '../api-client.js';
import { UsageError } from '../usage-error.js';

export const SCAN_HELP = `mgos scan: scan a bus of the running system for meters (live polling keeps priority)

  mgos scan --bus bus1 [--from 1] [--to 247]

Shows a progress bar, then every meter that answered: known, new (with a proposed config entry),
duplicate (replies collide: two meters share an address), unidentified, or missing (configured but silent).
${API_OPTIONS_HELP}`;

function bar(done: number, total: number, width = 30): string {
  const filled = Math.round((done / Math.max(total, 1)) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

export async function scanCommand(argv: string[]): Promise<number> {
  const { values: v } = parseArgs({
    args: argv,
    options: { url: { type: 'string' }, user: { type: 'string' }, bus: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } },
  });
  if (!v.bus) throw new UsageError('--bus: which bus to scan (see mgos meter list for bus names)');
  const api = new ApiClient({ url: v.url, user: v.user });
  const from = Number(v.from ?? 1);
  const to = Number(v.to ?? 247);
  const { scanId } = await api.request<{ scanId: string }>('POST', `/api/buses/${encodeURIComponent(v.bus)}/scan`, { from, to });
  let scan: ScanState;
  for (;;) {
    scan = await api.request<ScanState>('GET', `/api/scans/${scanId}`);
    process.stderr.write(`\r${bar(scan.scanned, scan.total)} ${scan.scanned}/${scan.total} addresses, ${scan.found.length} found `);
    if (scan.state !== 'running') break;
    await new Promise((r) => setTimeout(r, 500));
  }
  process.stderr.write('\n');
  if (scan.state !== 'done') process.stderr.write(`scan ${scan.state}${scan.error ? `: ${scan.error}` : ''}\n`);
  for (const f of scan.found) {
    process.stdout.write(`${String(f.address).padStart(3)}  ${f.status.padEnd(12)} ${(f.model ?? '-').padEnd(8)} ${f.configuredAs ?? ''} ${f.detail}\n`);
  }
  if (scan.proposals.length > 0) {
    process.stdout.write('\nproposed meters (add with "mgos meter add ..." after checking them):\n');
    for (const p of scan.proposals)
      process.stdout.write(`  - { id: ${p.id}, name: ${p.name}, type: ${p.type}, bus: ${p.bus}${p.address ? `, address: ${p.address}` : ''} }\n`);
  }
  return scan.state === 'done' ? 0 : 1;
}
