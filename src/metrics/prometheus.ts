import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { SEVERITIES } from '../alarms/types.js';
import type { BusView } from '../site/site-runtime.js';
import type { UplinkStatus } from '../uplink/uplink.js';
import type { SystemFigures } from './figures.js';

/**
 * The Prometheus view of a running site (text exposition format 0.0.4, docs/metrics.md), through
 * prom-client with a registry of its own (never the library's global one: tests run several systems
 * in one process). Figures the site already counts are read at scrape time (`collect`); only the cycle
 * durations are observed as they happen, into histograms.
 */
export interface MetricsRegistry {
  readonly contentType: string;
  text(): Promise<string>;
  close(): void;
}

type Emit = (labels: Record<string, string>, value: number) => void;

const BUS_CYCLE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60];
const EDGE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

export function prometheusRegistry(f: SystemFigures): MetricsRegistry {
  const register = new Registry();
  // process_* and nodejs_* (memory, CPU, event loop lag, open file descriptors, start time) by their usual names.
  collectDefaultMetrics({ register });

  const gauge = (name: string, help: string, labelNames: readonly string[], read: (emit: Emit) => void): void => {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [register],
      collect() {
        this.reset();
        read((l, v) => this.set(l, v));
      },
    });
  };
  // A count the site keeps itself (it may restart at 0: Prometheus treats that as a counter reset).
  const counter = (name: string, help: string, labelNames: readonly string[], read: (emit: Emit) => void): void => {
    new Counter({
      name,
      help,
      labelNames,
      registers: [register],
      collect() {
        this.reset();
        read((l, v) => this.inc(l, Math.max(0, v)));
      },
    });
  };

  gauge('mgos_info', 'The site and the software version (always 1).', ['site', 'version'], (e) => e({ site: f.siteId, version: f.version }, 1));
  gauge('mgos_uptime_seconds', 'Time since the system started, by the system clock.', [], (e) => e({}, f.uptimeMs() / 1000));

  const perBus = (pick: (b: BusView) => number | null) => (e: Emit) => {
    for (const b of f.buses()) {
      const v = pick(b);
      if (v !== null) e({ bus: b.id }, v);
    }
  };
  const bus = ['bus'];
  gauge(
    'mgos_bus_connected',
    'Whether the bus line (serial port or gateway) is open: 1 or 0.',
    bus,
    perBus((b) => (b.connected ? 1 : 0)),
  );
  counter(
    'mgos_bus_requests_total',
    'Modbus requests sent.',
    bus,
    perBus((b) => b.requests),
  );
  counter(
    'mgos_bus_responses_total',
    'Valid Modbus responses received.',
    bus,
    perBus((b) => b.responses),
  );
  counter(
    'mgos_bus_errors_total',
    'Failed transactions of any kind (timeouts, CRC, exceptions, line errors).',
    bus,
    perBus((b) => b.errors),
  );
  counter(
    'mgos_bus_timeouts_total',
    'Transactions without an answer in time.',
    bus,
    perBus((b) => b.timeouts),
  );
  counter(
    'mgos_bus_crc_errors_total',
    'Answers that failed the CRC or framing check.',
    bus,
    perBus((b) => b.crcErrors),
  );
  counter(
    'mgos_bus_exceptions_total',
    'Modbus exception responses.',
    bus,
    perBus((b) => b.exceptions),
  );
  counter(
    'mgos_bus_sent_bytes_total',
    'Bytes sent on the line.',
    bus,
    perBus((b) => b.bytesTx),
  );
  counter(
    'mgos_bus_received_bytes_total',
    'Bytes received from the line.',
    bus,
    perBus((b) => b.bytesRx),
  );
  counter(
    'mgos_bus_busy_seconds_total',
    'Time the line was busy with transactions.',
    bus,
    perBus((b) => b.busyMs / 1000),
  );
  counter(
    'mgos_bus_overruns_total',
    'Poll cycles that did not finish within the poll interval.',
    bus,
    perBus((b) => b.overruns),
  );
  gauge(
    'mgos_bus_utilisation_ratio',
    'Share of the poll interval the last cycle took.',
    bus,
    perBus((b) => b.utilisation),
  );
  const busCycle = new Histogram({
    name: 'mgos_bus_cycle_duration_seconds',
    help: 'Duration of each poll cycle (all meters of the bus once).',
    labelNames: bus,
    buckets: BUS_CYCLE_BUCKETS,
    registers: [register],
  });
  const unsubscribe = [f.onBusCycle((b, ms) => busCycle.observe({ bus: b }, ms / 1000))];

  if (f.edge() !== null) {
    counter('mgos_edge_cycles_total', 'Edge cycles run.', [], (e) => e({}, f.edge()?.cycles ?? 0));
    counter('mgos_edge_overruns_total', 'Edge cycle slots missed because a cycle ran past its period.', [], (e) => e({}, f.edge()?.overruns ?? 0));
    const duration = new Histogram({
      name: 'mgos_edge_cycle_duration_seconds',
      help: 'Duration of each edge cycle.',
      buckets: EDGE_BUCKETS,
      registers: [register],
    });
    const jitter = new Histogram({
      name: 'mgos_edge_cycle_jitter_seconds',
      help: 'Start jitter of each edge cycle (actual minus scheduled start).',
      buckets: EDGE_BUCKETS,
      registers: [register],
    });
    unsubscribe.push(
      f.onEdgeCycle((ms, jitterMs) => {
        duration.observe(ms / 1000);
        jitter.observe(Math.max(0, jitterMs) / 1000);
      }),
    );
  }

  if (f.hasUplink) {
    // Before the uplink started (it starts after the HTTP server), its figures read 0.
    const figures: [kind: 'gauge' | 'counter', name: string, help: string, pick: (s: UplinkStatus) => number][] = [
      ['gauge', 'mgos_uplink_connected', 'Whether the MQTT uplink is connected to its broker: 1 or 0.', (s) => (s.connected ? 1 : 0)],
      ['gauge', 'mgos_uplink_queue_messages', 'Messages in the durable queue not yet acknowledged by the broker.', (s) => s.queued],
      ['gauge', 'mgos_uplink_backlog_messages', 'Backlog messages still to replay since the last connection.', (s) => s.backlog],
      ['gauge', 'mgos_uplink_inflight_messages', 'Messages sent and awaiting their PUBACK.', (s) => s.inflight],
      ['counter', 'mgos_uplink_sent_total', 'Messages published (resends included).', (s) => s.sent],
      ['counter', 'mgos_uplink_acked_total', 'Messages the broker acknowledged.', (s) => s.acked],
      ['counter', 'mgos_uplink_dropped_total', 'Oldest messages dropped because the queue was full.', (s) => s.dropped],
      ['counter', 'mgos_uplink_connections_total', 'Connections made to the broker.', (s) => s.connections],
    ];
    for (const [kind, name, help, pick] of figures) {
      (kind === 'gauge' ? gauge : counter)(name, help, [], (e) => {
        const s = f.uplink();
        e({}, s ? pick(s) : 0);
      });
    }
  }

  gauge('mgos_alarms_open', 'Open alarms by severity.', ['severity'], (e) => {
    const open = f.openAlarms();
    for (const s of SEVERITIES) e({ severity: s }, open[s]);
  });

  return {
    contentType: register.contentType,
    text: () => register.metrics(),
    close: () => {
      for (const u of unsubscribe) u();
      register.clear();
    },
  };
}
