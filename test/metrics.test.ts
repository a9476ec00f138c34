import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePort } from './helpers/mqtt-peer.js';
import { cyclesPass, startControlSite, until } from './helpers/control-site.js';

/**
 * GET /metrics scraped over real HTTP from a running simulated site with an edge cycle, parsed as the
 * Prometheus text format 0.0.4 by a strict reader written here from the format's rules.
 */

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: Sample[] = [];
  assert.ok(text.endsWith('\n'), 'the text ends with a line feed');
  text
    .slice(0, -1)
    .split('\n')
    .forEach((line, i) => {
      const where = `line ${i + 1}: ${line}`;
      if (line === '') return; // empty lines are allowed between families
      if (line.startsWith('# HELP ')) {
        const name = line.slice(7).split(' ')[0] ?? '';
        assert.match(name, NAME, where);
        assert.ok(!helps.has(name), `${where}: one HELP per family`);
        helps.add(name);
        return;
      }
      if (line.startsWith('# TYPE ')) {
        const [name = '', type = ''] = line.slice(7).split(' ');
        assert.match(name, NAME, where);
        assert.ok(['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type), where);
        assert.ok(!types.has(name), `${where}: one TYPE per family`);
        types.set(name, type);
        return;
      }
      assert.ok(!line.startsWith('#'), `${where}: a sample`);
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
      assert.ok(m, `${where}: name{labels} value`);
      const labels: Record<string, string> = {};
      const body = m[2] ?? '';
      const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;
      while (labelRe.lastIndex < body.length) {
        const l = labelRe.exec(body);
        assert.ok(l, `${where}: label="value" pairs`);
        labels[l[1] ?? ''] = (l[2] ?? '').replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      }
      // Values are read as Go's ParseFloat does: NaN and Inf in any letter case (prom-client writes "Nan").
      const raw = m[3] ?? '';
      const special = /^([+-]?)(inf|nan)$/i.exec(raw);
      const value = special ? (special[2]?.toLowerCase() === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity) : Number(raw);
      assert.ok(!Number.isNaN(value) || special !== null, `${where}: a number`);
      const name = m[1] ?? '';
      const family = [...types.keys()].find(
        (f) =>
          name === f ||
          ((types.get(f) === 'histogram' || types.get(f) === 'summary') && /^_(bucket|sum|count)$/.test(name.slice(f.length)) && name.startsWith(f)),
      );
      assert.ok(family, `${where}: its family's TYPE comes first`);
      samples.push({ name, labels, value });
    });
  return { types, samples };
}

const TOKEN = 'metrics-token-0123456789abcdef0123456789';

test('GET /metrics: refused without the token; with it, bus, edge cycle, uplink queue, alarms and process figures in the text format 0.0.4', async () => {
  const brokerPort = await freePort(); // nothing listens: the uplink stays disconnected and queues
  const s = await startControlSite({
    control: {},
    extra: {
      metrics: { token: TOKEN },
      uplink: {
        url: `mqtt://127.0.0.1:${brokerPort}`,
        topicPrefix: 'mgos-metrics-test',
        telemetry: { periodMs: 1000 },
        queue: { flushDelayMs: 100 },
        reconnectMinMs: 60_000,
      },
    },
  });
  try {
    const url = `${s.sys.url}/metrics`;
    const none = await fetch(url);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer /);
    assert.doesNotMatch(await none.text(), /mgos_bus/, 'no figures without the token');
    const wrong = await fetch(url, { headers: { authorization: `Bearer ${TOKEN.slice(0, -1)}x` } });
    assert.equal(wrong.status, 401);
    const session = await s.call('GET', '/metrics');
    assert.equal(session.status, 401, "a user's session is not the metrics token");

    await cyclesPass(s, 3);
    s.sys.alarms.store.raise({ rule: 'test_rule', subject: 'meter2', severity: 'major', condition: 'x', message: 'a test alarm' });
    const scrape = async (): Promise<Sample[]> => {
      const r = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
      return parseExposition(await r.text()).samples;
    };
    const one = (samples: Sample[], name: string, labels: Record<string, string> = {}): number => {
      const found = samples.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
      assert.equal(found.length, 1, `one sample ${name}${JSON.stringify(labels)}; found ${found.length}`);
      return found[0]?.value ?? NaN;
    };
    let samples: Sample[] = [];
    const buses = s.sys.site.busViews().map((b) => b.id);
    // The customer bus polls every 10 s: wait for a cycle of each bus and a queued uplink message.
    await until(
      'every bus cycled and the uplink queued a message',
      async () => {
        samples = await scrape();
        const cycled = buses.every((bus) => samples.some((x) => x.name === 'mgos_bus_cycle_duration_seconds_count' && x.labels.bus === bus && x.value > 0));
        return cycled && one(samples, 'mgos_uplink_queue_messages') > 0;
      },
      30_000,
    );
    const { types } = parseExposition(await (await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } })).text());
    assert.equal(types.get('mgos_bus_requests_total'), 'counter');
    assert.equal(types.get('mgos_bus_cycle_duration_seconds'), 'histogram');
    assert.equal(types.get('mgos_alarms_open'), 'gauge');

    assert.ok(buses.length >= 2, `the customer bus and the energy bus: ${buses.join(', ')}`);
    for (const bus of buses) {
      assert.ok(one(samples, 'mgos_bus_requests_total', { bus }) > 0, `${bus}: requests`);
      assert.ok(one(samples, 'mgos_bus_responses_total', { bus }) > 0, `${bus}: responses`);
      assert.equal(one(samples, 'mgos_bus_connected', { bus }), 1);
      const count = one(samples, 'mgos_bus_cycle_duration_seconds_count', { bus });
      assert.ok(count > 0, `${bus}: poll cycles observed`);
      assert.equal(one(samples, 'mgos_bus_cycle_duration_seconds_bucket', { bus, le: '+Inf' }), count, 'the +Inf bucket holds every cycle');
      for (const k of ['errors', 'timeouts', 'crc_errors', 'exceptions']) assert.ok(one(samples, `mgos_bus_${k}_total`, { bus }) >= 0);
    }
    assert.ok(one(samples, 'mgos_edge_cycles_total') >= 3);
    assert.ok(one(samples, 'mgos_edge_cycle_duration_seconds_count') >= 3);
    const buckets = samples.filter((x) => x.name === 'mgos_edge_cycle_duration_seconds_bucket').map((x) => x.value);
    assert.deepEqual(
      buckets,
      [...buckets].sort((a, b) => a - b),
      'cumulative buckets never decrease',
    );
    assert.equal(one(samples, 'mgos_uplink_connected'), 0);
    assert.equal(
      one(samples, 'mgos_alarms_open', { severity: 'major' }),
      s.sys.alarms.store.list({ state: 'open' }).filter((a) => a.severity === 'major').length,
    );
    assert.ok(one(samples, 'mgos_alarms_open', { severity: 'major' }) >= 1);
    assert.equal(one(samples, 'mgos_info', { site: 'ctl' }), 1);
    assert.ok(one(samples, 'mgos_uptime_seconds') > 0);
    assert.ok(one(samples, 'process_resident_memory_bytes') > 10_000_000);
    assert.ok(one(samples, 'nodejs_heap_size_used_bytes') > 0);
  } finally {
    await s.close();
  }
});

test('GET /metrics is off (404) when the site file has no metrics section, and a short token is refused at load', async () => {
  const s = await startControlSite({ control: {} });
  try {
    const r = await fetch(`${s.sys.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(r.status, 404);
    assert.match(((await r.json()) as { error: string }).error, /metrics are off/);
  } finally {
    await s.close();
  }
  await assert.rejects(startControlSite({ control: {}, extra: { metrics: { token: 'short' } } }), /32 characters/);
});
