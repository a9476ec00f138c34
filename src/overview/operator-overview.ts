import type { AlarmStore } from '../alarms/alarm-store.js';
import { SEVERITIES, type Severity } from '../alarms/types.js';
import type { RouteRegistry } from '../api/route.js';
import { consumptionOf, listCustomers } from '../billing/customers.js';
import type { Ledger } from '../billing/ledger.js';
import { monthFigures } from '../billing-runtime/billing-figures.js';
import type { GovernanceGate } from '../governance/gate.js';
import type { StoreDb } from '../store/database.js';
import { intervals, latestReading } from '../store/history.js';
import { ZonedClock } from '../store/zoned-clock.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { SiteRuntime } from '../site/site-runtime.js';

const QUARTER_MS = 900_000;
const TOP_CUSTOMERS = 5;

export interface OperatorOverviewDeps {
  readonly site: SiteRuntime;
  readonly db: StoreDb;
  readonly alarms: Pick<AlarmStore, 'list'>;
  readonly ledger: Ledger;
  readonly gate: Pick<GovernanceGate, 'list'>;
  readonly now?: Clock;
}

const kWh = (x: number): number => Math.round(x * 1e6) / 1e6;

/**
 * What an operator asks for first, for the site's local day and month at the system clock: energy today
 * (the site from the main meter's closed 15-minute intervals, and the top customers), the meters that are
 * offline with why and since when, open alarms by severity, arrears, the disconnect queue, and revenue
 * this month. Each figure is also available in detail elsewhere (links).
 */
export function operatorOverview(d: OperatorOverviewDeps) {
  const now = (d.now ?? systemClock)();
  const cfg = d.site.config.site;
  const clock = new ZonedClock(cfg.timezone);
  const day = clock.day(now);
  const dayStartMs = clock.dayRange(day)[0];

  // Energy today: the main meter is the site's connection point.
  const main = d.site.mainMeter();
  let siteEnergy: { meter: string; importKWh: number; exportKWh: number; intervals: number; upToMs: number | null } | null = null;
  if (main) {
    const rows = intervals(d.db, main.key, dayStartMs, now);
    let imp = 0;
    let exp = 0;
    for (const r of rows) {
      imp += r.energyImportKWh ?? 0;
      exp += r.energyExportKWh ?? 0;
    }
    const last = rows[rows.length - 1];
    siteEnergy = { meter: main.key, importKWh: kWh(imp), exportKWh: kWh(exp), intervals: rows.length, upToMs: last ? last.startMs + QUARTER_MS : null };
  }
  const customers = listCustomers(d.db, { site: d.ledger.site }).map((c) => {
    const ivs = consumptionOf(d.db, c.id, dayStartMs, now);
    return {
      customerId: c.id,
      name: c.name,
      mode: c.mode,
      meters: [...new Set(ivs.map((i) => i.meterKey))],
      importKWh: kWh(ivs.reduce((s, i) => s + i.kWh, 0)),
    };
  });
  const topCustomers = customers
    .filter((c) => c.importKWh > 0)
    .sort((a, b) => b.importKWh - a.importKWh || (a.customerId < b.customerId ? -1 : 1))
    .slice(0, TOP_CUSTOMERS)
    .map((c) => ({ ...c, links: { customer: `/api/customers/${encodeURIComponent(c.customerId)}` } }));

  // Offline: an open meter_offline alarm on the meter, or a bus_down alarm on its bus (which stands in for its meters).
  const open = d.alarms.list({ state: 'open', limit: 100_000 });
  const meterAlarm = new Map(open.filter((a) => a.rule === 'meter_offline').map((a) => [a.subject, a]));
  const busAlarm = new Map(open.filter((a) => a.rule === 'bus_down').map((a) => [a.subject, a]));
  const offlineMeters = d.site
    .meterList()
    .filter((m) => m.enabled)
    .flatMap((m) => {
      const a = meterAlarm.get(m.key) ?? busAlarm.get(`bus:${m.bus}`);
      if (!a) return [];
      const live = Object.values(d.site.image.component(m.key)).reduce<number | null>(
        (t, v) => (v.quality !== 'ERROR' && (t === null || v.ts > t) ? v.ts : t),
        null,
      );
      const lastReadingTs = live ?? latestReading(d.db, m.key)?.ts ?? null;
      return [
        {
          meter: m.key,
          name: m.name,
          bus: m.bus,
          role: m.role,
          cause: a.rule === 'bus_down' ? ('bus' as const) : ('meter' as const),
          reason: a.message,
          since: a.raisedAt,
          lastReadingTs,
          alarmId: a.id,
          links: { alarm: `/api/alarms/${a.id}`, history: `/api/meters/${m.key}/history` },
        },
      ];
    });

  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const a of open) bySeverity[a.severity] += 1;

  const money = monthFigures(d.db, d.ledger, cfg.timezone, now);
  const pending = d.gate.list('pending').filter((p) => p.capability === 'disconnect');
  return {
    site: { id: cfg.id, name: cfg.name, timezone: cfg.timezone },
    at: now,
    day,
    dayStartMs,
    month: money.month,
    energyToday: { site: siteEnergy, topCustomers },
    offlineMeters,
    alarms: { open: open.length, unacknowledged: open.filter((a) => a.acknowledged === null).length, bySeverity, links: { list: '/api/alarms' } },
    arrears: { currency: money.currency, totalMinor: money.arrearsMinor, customers: money.customersInArrears },
    disconnectQueue: {
      pending: pending.length,
      oldestSince: pending.reduce<number | null>((t, p) => (t === null || p.createdAt < t ? p.createdAt : t), null),
      links: { list: '/api/proposals?state=pending' },
    },
    revenueMonth: {
      currency: money.currency,
      month: money.month,
      revenueMinor: money.revenueMinor,
      energyMinor: money.revenueEnergyMinor,
      fixedMinor: money.revenueFixedMinor,
      feesMinor: money.revenueFeesMinor,
      billedMinor: money.billedMinor,
      paymentsMinor: money.paymentsMinor,
      collectionRate: money.collectionRate,
      links: { dashboard: '/api/billing/dashboard' },
    },
  };
}

export type OperatorOverview = ReturnType<typeof operatorOverview>;

export function registerOperatorOverviewRoutes(routes: RouteRegistry, d: OperatorOverviewDeps): void {
  routes.add({
    method: 'GET',
    url: '/api/overview/operator',
    summary:
      "What an operator asks for first, for the site's local day and month: energyToday {site {meter, importKWh, exportKWh, intervals, upToMs} from the main meter's closed intervals, topCustomers[≤5] {customerId, name, mode, meters, importKWh}}, " +
      'offlineMeters[] {meter, name, bus, role, cause meter|bus, reason, since, lastReadingTs, alarmId, links}, alarms {open, unacknowledged, bySeverity {critical, major, minor, info}}, ' +
      'arrears {currency, totalMinor, customers}, disconnectQueue {pending, oldestSince}, revenueMonth {currency, month, revenueMinor, energyMinor, fixedMinor, feesMinor, billedMinor, paymentsMinor, collectionRate}',
    role: 'viewer',
    handler: () => operatorOverview(d),
  });
}
