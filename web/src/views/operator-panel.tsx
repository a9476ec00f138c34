import type { VNode } from 'preact';
import { money } from '../billing-api.js';
import { siteNow } from '../clock.js';
import { ago, clock, dateTime, percent } from '../format.js';
import { operatorApi, type OfflineMeter, type OperatorOverview } from '../operator-api.js';
import { href } from '../router.js';
import { Show, useLoad } from '../ui/load.js';

const kWh = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

/**
 * What an operator asks for first (GET /api/overview/operator), fetched again when `refresh`
 * changes: energy today (the site and its top customers), the meters that are offline and why,
 * open alarms, arrears, the disconnect queue and this month's revenue, each linked to its page.
 */
export function OperatorPanel({ refresh, tz }: { refresh: number; tz: string }): VNode {
  const state = useLoad(() => operatorApi.overview(), [refresh]);
  return (
    <div class="operator" data-testid="operator-overview">
      <Show state={state} errorTestId="operator-error">
        {(o) => <Panel o={o} tz={tz} />}
      </Show>
    </div>
  );
}

function Panel({ o, tz }: { o: OperatorOverview; tz: string }): VNode {
  const e = o.energyToday.site;
  const r = o.revenueMonth;
  const q = o.disconnectQueue;
  const a = o.alarms;
  const bySeverity = Object.entries(a.bySeverity)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`)
    .join(', ');
  return (
    <>
      <section class="tiles" aria-label="Today and this month">
        <Tile
          label="Energy today"
          testId="energy-today"
          value={e ? kWh(e.importKWh) : '—'}
          unit="kWh"
          hint={
            e
              ? `imported at ${e.meter}${e.exportKWh > 0 ? `, ${kWh(e.exportKWh)} kWh exported` : ''}${e.upToMs ? `, up to ${clock(e.upToMs, tz).slice(0, 5)}` : ''}`
              : 'no main meter configured'
          }
        />
        <section class="card tile alarm-tile" aria-labelledby="alarm-tile-title" data-testid="overview-alarms" data-attention={String(a.unacknowledged > 0)}>
          <h2 id="alarm-tile-title" class="tile-label">
            Open alarms{' '}
            <a href={href({ page: 'alarms' })} class="small-link">
              see all
            </a>
          </h2>
          <span class="tile-value" data-testid="alarms-open">
            {String(a.open)}
          </span>
          <small class="hint" data-testid="alarms-unacked">
            {a.open === 0 ? 'all clear' : a.unacknowledged ? `${a.unacknowledged} not acknowledged` : 'all acknowledged'}
            {bySeverity ? ` · ${bySeverity}` : ''}
          </small>
        </section>
        <Tile
          label="Arrears"
          testId="overview-arrears"
          link={href({ page: 'billing' })}
          value={money(o.arrears.totalMinor, o.arrears.currency)}
          hint={`${o.arrears.customers} customer${o.arrears.customers === 1 ? '' : 's'} owe`}
        />
        <Tile
          label="Disconnect queue"
          testId="overview-queue"
          link={href({ page: 'proposals' })}
          value={String(q.pending)}
          attention={q.pending > 0}
          hint={q.pending === 0 ? 'nothing waits for a decision' : `waiting since ${dateTime(q.oldestSince, tz)}`}
        />
        <Tile
          label={`Revenue ${r.month}`}
          testId="overview-revenue"
          link={href({ page: 'billing' })}
          value={money(r.revenueMinor, r.currency)}
          hint={`paid ${money(r.paymentsMinor, r.currency)} · collected ${percent(r.collectionRate)} of due`}
        />
      </section>
      <div class="grid operator-lists">
        <OfflineMeters meters={o.offlineMeters} tz={tz} />
        <section class="card" aria-labelledby="top-title" data-testid="top-customers">
          <h2 id="top-title">Top customers today</h2>
          {o.energyToday.topCustomers.length === 0 ? (
            <p class="hint">No customer used energy yet today.</p>
          ) : (
            <ol class="ranked">
              {o.energyToday.topCustomers.map((c) => (
                <li key={c.customerId} data-testid="top-customer" data-id={c.customerId}>
                  <a href={href({ page: 'customer', id: c.customerId })}>{c.name}</a>
                  <span class="num">{kWh(c.importKWh)} kWh</span>
                </li>
              ))}
            </ol>
          )}
        </section>
      </div>
    </>
  );
}

function OfflineMeters({ meters, tz }: { meters: readonly OfflineMeter[]; tz: string }): VNode {
  const now = siteNow();
  return (
    <section class="card" aria-labelledby="offline-title" data-testid="offline-meters">
      <h2 id="offline-title">
        Offline meters <span class="count-total">({meters.length})</span>
      </h2>
      {meters.length === 0 ? (
        <p class="hint" data-testid="offline-none">
          Every meter is answering.
        </p>
      ) : (
        <ul class="offline-list">
          {meters.map((m) => (
            <li key={m.meter} data-testid="offline-meter" data-meter={m.meter}>
              <p class="offline-head">
                <a href={href({ page: 'meter', key: m.meter })} data-testid="offline-meter-link">
                  {m.name}
                </a>{' '}
                <small>
                  {m.meter}
                  {m.role === 'main' ? ' · main' : ''}
                </small>
                <span class="badge badge-error">{m.cause === 'bus' ? `bus ${m.bus} down` : 'offline'}</span>
              </p>
              <p class="offline-reason" data-testid="offline-reason">
                {m.reason}
              </p>
              <p class="hint">
                Since {dateTime(m.since, tz)} ·{' '}
                <a href={href({ page: 'alarm', id: String(m.alarmId) })} data-testid="offline-alarm-link">
                  alarm #{m.alarmId}
                </a>
                {' · '}
                <span class="old" data-testid="offline-age">
                  {m.lastReadingTs === null ? 'never read' : `last reading ${ago(m.lastReadingTs, now)}`}
                </span>
              </p>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Tile(p: { label: string; value: string; unit?: string; hint: string; testId: string; link?: string; attention?: boolean }): VNode {
  return (
    <section class="card tile" data-testid={`${p.testId}-tile`} data-attention={p.attention ? 'true' : undefined}>
      <h2 class="tile-label">
        {p.label}
        {p.link ? (
          <a href={p.link} class="small-link">
            open
          </a>
        ) : null}
      </h2>
      <span>
        <span class="tile-value" data-testid={p.testId}>
          {p.value}
        </span>
        {p.unit ? <span class="unit"> {p.unit}</span> : null}
      </span>
      <small class="hint">{p.hint}</small>
    </section>
  );
}
