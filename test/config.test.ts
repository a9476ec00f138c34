import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSiteConfigText } from '../src/config/load-site-config.js';
import { ConfigError } from '../src/util/yaml-file.js';

const good = `site:
  id: kasese
  name: Kasese mini-grid
  timezone: Africa/Kampala
buses:
  - id: bus1
    transport: rtu
    path: /dev/ttyUSB0
meters:
  - id: 100
    name: main_supply
    type: "3phase"
    role: main
    enabled: true
  - id: 2
    name: floor1_reception
    type: "1phase"
    enabled: true
`;

function refusal(text: string): ConfigError {
  try {
    loadSiteConfigText(text, '/etc/mgos/site.yaml');
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    return e;
  }
  assert.fail('the bad file was accepted');
}

test('a file in the seed config.prod.yaml shape loads with defaults', () => {
  const { config } = loadSiteConfigText(good, '/etc/mgos/site.yaml');
  assert.equal(config.poll.intervalMs, 10_000);
  assert.equal(config.meters.length, 2);
  assert.equal(config.meters[1]?.type, '1phase');
  const bus = config.buses[0];
  assert.ok(bus && bus.transport === 'rtu');
  assert.equal(bus.baudRate, 9600);
  assert.equal(bus.stopBits, 2);
  assert.equal(config.storage.path, '/etc/mgos/data/mgos.db');
});

test('an unknown meter type names file, line, field, what was found and what is allowed', () => {
  const e = refusal(good.replace('type: "1phase"', 'type: "2phase"'));
  assert.match(e.message, /\/etc\/mgos\/site\.yaml:17: meters\.1\.type: unknown meter type; allowed: 1phase, 3phase, .*DDSU666.*; found "2phase"/);
  assert.match(e.message, /nothing was started/);
});

test('a wrong baud rate and a bad name are both reported with their lines', () => {
  const bad = good.replace('path: /dev/ttyUSB0', 'path: /dev/ttyUSB0\n    baudRate: 9601').replace('floor1_reception', 'Floor 1');
  const e = refusal(bad);
  assert.match(e.message, /site\.yaml:9: buses\.0\.baudRate: not a standard baud rate; allowed: 1200, .*9600.*; found 9601/);
  assert.match(e.message, /site\.yaml:17: meters\.1\.name: use lowercase letters, digits and underscores.*found "Floor 1"/);
});

test('a duplicate address on one bus is refused, naming the other meter', () => {
  const e = refusal(good.replace('id: 2\n', 'id: 100\n'));
  assert.match(e.message, /site\.yaml:15: meters\.1\.id: address 100 is already used on bus bus1 by meters\[0\]/);
});

test('YAML syntax errors and unknown keys are refused', () => {
  assert.match(refusal('site: [unclosed').message, /site\.yaml:1:\d+: YAML syntax/);
  assert.match(refusal(good.replace('enabled: true\n  - id: 2', 'enabled: true\n    colour: red\n  - id: 2')).message, /meters\.0: Unrecognized key.*colour/);
});

test('a meter on a bus that does not exist is refused', () => {
  assert.match(refusal(good.replace('type: "3phase"', 'type: "3phase"\n    bus: bus9')).message, /meters\.0\.bus: no bus "bus9" is defined; allowed: bus1/);
});

test('the example site file in examples/ is valid', async () => {
  const { loadSiteConfigFile } = await import('../src/config/load-site-config.js');
  const { fromRoot } = await import('../src/util/paths.js');
  const { config } = loadSiteConfigFile(fromRoot('examples', 'site.yaml'));
  assert.equal(config.meters.length, 3);
  assert.equal(config.meters[0]?.role, 'main');
});

test('the commented examples in examples/site.yaml are valid settings when uncommented', async () => {
  const { readFileSync } = await import('node:fs');
  const { fromRoot } = await import('../src/util/paths.js');
  const file = fromRoot('examples', 'site.yaml');
  // "  # key: value" and "#   key:" become settings; prose comments ("# A site with ...") stay comments.
  const text = readFileSync(file, 'utf8').replace(/^(\s*)# (\s*(?:[A-Za-z]\w*:(?:\s|$)|- ))/gm, '$1$2');
  const { config } = loadSiteConfigText(text, file);
  assert.deepEqual(config.http.trustProxy, ['127.0.0.1']);
  assert.equal(config.http.secureCookies, true);
  assert.equal(config.meters[0]?.maxPowerW, 66_240);
  assert.deepEqual(config.commissioning.bench, { serialPrefixes: ['/dev/ttyUSB', '/dev/ttyACM'], gateways: ['192.168.1.50:4196'] });
  assert.equal(config.billing?.maxPaymentMinor, 100_000_000);
});

test('a time zone that does not exist is refused with file, line, what was found and what is allowed', () => {
  const e = refusal(good.replace('timezone: Africa/Kampala', 'timezone: Mars/Olympus'));
  assert.match(
    e.message,
    /site\.yaml:4: site\.timezone: not an IANA time zone this system knows; allowed: a name such as Africa\/Kampala.*; found "Mars\/Olympus"/,
  );
  assert.equal(loadSiteConfigText(good.replace('Africa/Kampala', 'UTC'), '/etc/mgos/site.yaml').config.site.timezone, 'UTC');
});

test('a YAML alias bomb is refused at once with the file and the line of its first alias', () => {
  const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++) {
    const prev = String.fromCharCode(96 + i);
    const name = String.fromCharCode(97 + i);
    levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  const started = performance.now();
  const e = refusal(`${good}${levels.join('\n')}\n`);
  assert.ok(performance.now() - started < 2000, 'refused quickly, not after expanding it');
  assert.match(e.message, /site\.yaml:20: YAML aliases: \*a and the aliases it holds expand to more than 100 copies.*allowed: at most 100 alias expansions/);
});

test('checks made later at start-up today are made when the file is read: relay buses and holiday dates', () => {
  const relays = good + 'relays:\n  - { bus: bus9, address: 50, model: waveshare-8ch-nc, channels: [{ channel: 1, meter: 2 }] }\n';
  assert.match(refusal(relays).message, /site\.yaml:20: relays\.0\.bus: no bus "bus9" is defined; allowed: bus1/);
  const holiday = good + 'governance:\n  holidays: ["2026-02-31"]\n';
  assert.match(refusal(holiday).message, /site\.yaml:20: governance\.holidays\.0: "2026-02-31" is not a day of the calendar/);
});
