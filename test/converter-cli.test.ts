import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serveBench } from '../src/sim/bench-server.js';
import { MGOS, mgos } from './helpers/cli.js';
import { openPtyPair, requireTool } from './helpers/pty.js';

/** A site file naming the bench gateway: --tcp opens only configured gateways. */
function benchSite(gateway: string, extra = ''): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'mgos-convert-cli-')), 'site.yaml');
  writeFileSync(file, `site: { id: lab, name: Lab }\ncommissioning:\n  bench: { gateways: ["${gateway}"]${extra} }\n`);
  return file;
}

/** Spawns mgos; when stdout shows `waitFor`, calls `then(stdin write)`. */
function interactive(
  args: string[],
  waitFor: RegExp,
  then: (write: (s: string) => void) => void,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [MGOS, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let fired = false;
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    if (!fired && waitFor.test(stdout)) {
      fired = true;
      then((s) => child.stdin.write(s));
    }
  });
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

test('mgos convert identify prints the serial and energy read over DL/T645', async () => {
  const bench = await serveBench({ model: 'DDSU666', serial: '200322016690', energyKWh: 12345.67 });
  try {
    const r = await mgos(['convert', 'identify', '--tcp', bench.tcp, '--config', benchSite(bench.tcp), '--timeout', '300']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /✓ identify: serial 200322016690, positive active energy 12345\.67 kWh/);
    const json = await mgos(['convert', 'identify', '--tcp', bench.tcp, '--config', benchSite(bench.tcp), '--json']);
    assert.equal((JSON.parse(json.stdout) as { serial: string }).serial, '200322016690');
  } finally {
    await bench.close();
  }
});

test('mgos convert run prints the step log live and waits for Enter after the front-panel instructions', async () => {
  const bench = await serveBench({ model: 'DDSU666', serial: '200322016690', energyKWh: 1.5 });
  try {
    const r = await interactive(
      ['convert', 'run', '--tcp', bench.tcp, '--config', benchSite(bench.tcp), '--address', '12', '--model', 'DDSU666', '--timeout', '300'],
      /Press Enter/,
      (write) => {
        bench.meter.frontPanel.setProtocol('n.2', 701);
        write('\n');
      },
    );
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /▶ Identify the meter over DL\/T645/);
    assert.match(r.stdout, /1\. On the DDSU666's front panel, open the programming menu \(SET key\) and enter password 701\./);
    assert.match(r.stdout, /✓ protocol-switch: operator confirmed/);
    assert.match(r.stdout, /✓ set-address: meter acknowledged address 12/);
    assert.match(r.stdout, /═══ Full process complete: DDSU666 200322016690 is at Modbus address 12\./);
    assert.equal(bench.meter.modbusAddress, 12);
  } finally {
    await bench.close();
  }
});

test('mgos convert run --yes does not wait for Enter; the Modbus probe retries while the panel is switched', async () => {
  const bench = await serveBench({ model: 'DTSU666', serial: '200415023456' });
  try {
    const r = await interactive(
      ['convert', 'run', '--yes', '--tcp', bench.tcp, '--config', benchSite(bench.tcp), '--address', '100', '--model', 'DTSU666', '--timeout', '300'],
      /--yes: not waiting/,
      () => {
        setTimeout(() => bench.meter.frontPanel.setProtocol('n.2'), 200);
      },
    );
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(bench.meter.modbusAddress, 100);
  } finally {
    await bench.close();
  }
});

test('mgos convert set-address moves a converted meter, and refuses the wrong model', async () => {
  const bench = await serveBench({ model: 'DTSU666', serial: '200415023456' });
  bench.meter.frontPanel.setProtocol('n.2');
  try {
    const wrong = await mgos([
      'convert',
      'set-address',
      '--tcp',
      bench.tcp,
      '--config',
      benchSite(bench.tcp),
      '--from',
      '1',
      '--to',
      '12',
      '--model',
      'DDSU666',
      '--timeout',
      '300',
    ]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /expected a DDSU666 but the meter at address 1 is a DTSU666; nothing was written/);
    assert.equal(bench.meter.image.configValue(0x0006), 1);
    const ok = await mgos([
      'convert',
      'set-address',
      '--tcp',
      bench.tcp,
      '--config',
      benchSite(bench.tcp),
      '--from',
      '1',
      '--to',
      '120',
      '--model',
      'DTSU666',
      '--timeout',
      '300',
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /DTSU666 moved from address 1 to 120 \(verified at 120\)/);
    const show = await mgos(['convert', 'show', '--tcp', bench.tcp, '--config', benchSite(bench.tcp), '--address', '120']);
    assert.match(show.stdout, /DTSU666 at address 120, protocol n\.2, 9600 baud/);
    const usage = await mgos(['convert', 'run', '--address', '12', '--model', 'DDSU666']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /give --port PATH or --tcp HOST:PORT/);
  } finally {
    await bench.close();
  }
});

test('mgos convert opens only real serial devices and configured gateways', async (t) => {
  const passwd = await mgos(['convert', 'identify', '--port', '/dev/../etc/passwd']);
  assert.equal(passwd.code, 2);
  assert.match(
    passwd.stderr,
    /--port: "\/dev\/\.\.\/etc\/passwd" \(it resolves to \/etc\/passwd\) is not a bench serial device; allowed: a serial device whose real path starts with \/dev\/ttyUSB/,
  );
  const tcp = await mgos(['convert', 'identify', '--tcp', '127.0.0.1:1']);
  assert.equal(tcp.code, 2);
  assert.match(tcp.stderr, /--tcp: 127\.0\.0\.1:1 is not a configured gateway; allowed: none \(list them under commissioning\.bench\.gateways/);
  const other = await mgos(['convert', 'identify', '--tcp', '127.0.0.1:1', '--config', benchSite('127.0.0.1:2')]);
  assert.match(other.stderr, /127\.0\.0\.1:1 is not a configured gateway; allowed: 127\.0\.0\.1:2/);
  if (!requireTool('socat', t)) return;
  // A socat pty: refused by the default prefixes, opened by its resolved /dev/pts path when the site allows it.
  const pty = await openPtyPair();
  const bench = await serveBench({ model: 'DDSU666', serial: '200322016690', energyKWh: 3.25 }, { serialPaths: [pty.b] });
  try {
    const refused = await mgos(['convert', 'identify', '--port', pty.a]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /\(it resolves to \/dev\/pts\/\d+\) is not a bench serial device/);
    const ok = await mgos(['convert', 'identify', '--port', pty.a, '--timeout', '500', '--config', benchSite('127.0.0.1:2', ', serialPrefixes: [/dev/pts/]')]);
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    assert.match(ok.stdout, /serial 200322016690, positive active energy 3\.25 kWh/);
  } finally {
    await bench.close();
    await pty.close();
  }
});
