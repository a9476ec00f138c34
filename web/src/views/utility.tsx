import { h as jsx, type VNode } from 'preact';
import { h } from '../dom.js';
import { ago, clock, dateTime, DASH } from '../format.js';
import { island, Show, useLoad } from '../ui/load.js';
import {
  utilityApi,
  type ComplianceFigures,
  type DayFigures,
  type LimitQuantity,
  type LimitSource,
  type UtilityEvent,
  type UtilityStatus,
} from '../utility-api.js';
import { countdown, useNow, usePoll } from './steering.js';
import type { Ctx, View } from './view.js';

const REFRESH_MS = 5000;
/** A certificate this close to its expiry is shown as a warning: renewing one takes the utility days. */
const CERT_WARN_DAYS = 30;
/** The timeline shows at least this far ahead. */
const TIMELINE_MS = 2 * 3600_000;

const LABEL: Readonly<Record<LimitQuantity, string>> = {
  opModExpLimW: 'Export limit',
  opModImpLimW: 'Import limit',
  opModGenLimW: 'Generation limit',
  opModLoadLimW: 'Load limit',
  opModMaxLimW: 'Maximum power',
  opModStorageTargetW: 'Battery target',
  opModConnect: 'Connect',
  opModEnergize: 'Energize',
};

const QUANTITY_LABEL: Readonly<Record<ComplianceFigures['quantity'], string>> = { export: 'Export', import: 'Import', generation: 'Generation', load: 'Load' };

/**
 * The utility's side of the site (IEEE 2030.5 / CSIP-AUS, docs/csip.md): the limit in force per
 * quantity and where it came from, active and upcoming events, the device certificate, the link to
 * the utility's server, and how well the site kept to the limits today and over 7 days.
 */
export function utilityView(ctx: Ctx): View {
  const host = h('div', { class: 'stack' });
  const el = h('div', { class: 'page utility', 'data-testid': 'utility' }, h('div', { class: 'page-head' }, h('h1', {}, 'Utility')), host);
  island(host, jsx(UtilityPage, { tz: ctx.site.timezone }), ctx.scope);
  return { el };
}

function UtilityPage({ tz }: { tz: string }): VNode {
  const state = useLoad(() => utilityApi.status(), []);
  usePoll(() => state.reload(), REFRESH_MS);
  return (
    <Show state={state}>
      {(u) =>
        u.configured ? (
          <>
            <Limits u={u} />
            <Events u={u} tz={tz} />
            <Problems u={u} tz={tz} />
            <Compliance u={u} tz={tz} />
            <Link u={u} tz={tz} />
            <Certificate u={u} tz={tz} />
          </>
        ) : (
          <p class="notice" data-testid="utility-off">
            This site follows no utility: add a <code>csip:</code> section to the site file (the 2030.5 server, the device certificate, its key and the CA;
            docs/csip.md) to receive the utility's limits.
          </p>
        )
      }
    </Show>
  );
}

const watts = (w: number): string => (Math.abs(w) >= 1000 ? `${(w / 1000).toFixed(2)} kW` : `${Math.round(w)} W`);

function value(q: LimitQuantity, v: number | boolean): string {
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (q === 'opModStorageTargetW') return v >= 0 ? `discharge ${watts(v)}` : `charge ${watts(-v)}`;
  return q === 'opModMaxLimW' ? `${Number(v.toFixed(1))} % of rating` : watts(v);
}

function sourceText(s: LimitSource): string {
  if (s.kind === 'event') return `Event ${s.eventMRID} · program ${s.programMRID} (primacy ${s.primacy})`;
  if (s.kind === 'default') return `Default control of program ${s.programMRID} (primacy ${s.primacy})`;
  return "The site's fallback (site file, csip.fallback)";
}

const SOURCE_BADGE: Readonly<Record<LimitSource['kind'], [string, string]>> = {
  event: ['badge-stale', 'event'],
  default: ['badge-good', 'default'],
  fallback: ['badge-off', 'fallback'],
};

function Limits({ u }: { u: UtilityStatus }): VNode {
  return (
    <section class="card" aria-labelledby="limits-title" data-testid="utility-limits">
      <h2 id="limits-title">Limits in force</h2>
      {u.limits.length === 0 ? (
        <p class="hint">Neither the utility nor the site's fallback sets a limit.</p>
      ) : (
        <ul class="plain limit-list">
          {u.limits.map((l) => {
            const [cls, word] = SOURCE_BADGE[l.source.kind];
            return (
              <li key={l.quantity} data-testid="utility-limit" data-quantity={l.quantity} data-source={l.source.kind} data-ramping={l.ramp ? 'yes' : 'no'}>
                <span class="limit-name">{LABEL[l.quantity]}</span> <strong data-testid="limit-value">{value(l.quantity, l.value)}</strong>
                {l.ramp ? <Ramp q={l.quantity} ramp={l.ramp} /> : null} <span class={`badge ${cls}`}>{word}</span>
                <small class="hint limit-source" data-testid="limit-source">
                  {sourceText(l.source)}
                </small>
              </li>
            );
          })}
        </ul>
      )}
      {u.evaluatedAt === null ? <p class="hint">Not evaluated yet.</p> : null}
    </section>
  );
}

/** A looser limit still rising (ramp.ts): where it goes and how fast; the value shown before it is the one the site applies now. */
function Ramp({ q, ramp }: { q: LimitQuantity; ramp: NonNullable<UtilityStatus['limits'][number]['ramp']> }): VNode {
  const rate =
    ramp.ratePerS === null
      ? ''
      : q === 'opModMaxLimW'
        ? ` at ${ramp.ratePerS.toFixed(2)} %/s`
        : ` at ${ramp.pctPerS === null ? '' : `${ramp.pctPerS.toFixed(2)} %/s, `}${Math.round(ramp.ratePerS)} W/s`;
  return (
    <>
      {' → '}
      <strong data-testid="limit-target">{value(q, ramp.target)}</strong> <span data-testid="limit-ramp">ramping{rate}</span>
    </>
  );
}

function eventLimits(e: UtilityEvent): string {
  const parts = (Object.entries(e.values) as [LimitQuantity, number | boolean][]).map(([q, v]) => `${LABEL[q]} ${value(q, v)}`);
  return parts.length ? parts.join(', ') : DASH;
}

function Events({ u, tz }: { u: UtilityStatus; tz: string }): VNode {
  const now = useNow();
  const events = [...u.events].sort((a, b) => a.startMs - b.startMs);
  return (
    <section class="card" aria-labelledby="events-title" data-testid="utility-events">
      <h2 id="events-title">Events</h2>
      {events.length === 0 ? (
        <p class="hint" data-testid="events-none">
          No active or upcoming event: the default controls or the site's fallback apply.
        </p>
      ) : (
        <>
          <Timeline events={events} now={now} tz={tz} />
          <div class="table-wrap">
            <table class="list">
              <thead>
                <tr>
                  <th>Event</th>
                  <th>State</th>
                  <th>Start</th>
                  <th>End</th>
                  <th>Limits</th>
                </tr>
              </thead>
              <tbody>
                {events.map((e) => (
                  <tr key={e.mRID} data-testid="utility-event" data-mrid={e.mRID} data-state={e.state}>
                    <th class="mrid">
                      {e.mRID}
                      <small>{`program ${e.programMRID} · primacy ${e.primacy}`}</small>
                    </th>
                    <td data-label="State">
                      <div>
                        {e.state === 'active' ? (
                          <span class="badge badge-stale" data-testid="event-state">{`active, ${countdown(e.endMs - now)} left`}</span>
                        ) : (
                          <span class="badge badge-off" data-testid="event-state">{`in ${countdown(e.startMs - now)}`}</span>
                        )}
                      </div>
                    </td>
                    <td data-label="Start">{dateTime(e.startMs, tz)}</td>
                    <td data-label="End">{dateTime(e.endMs, tz)}</td>
                    <td data-label="Limits" data-testid="event-limits">
                      {eventLimits(e)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

/** A strip from now to the last event's end (two hours at least), each event a block. */
function Timeline({ events, now, tz }: { events: readonly UtilityEvent[]; now: number; tz: string }): VNode {
  const to = Math.max(now + TIMELINE_MS, ...events.map((e) => e.endMs));
  const pct = (t: number): number => (100 * (Math.min(Math.max(t, now), to) - now)) / (to - now);
  return (
    <div class="event-strip" data-testid="utility-timeline" aria-hidden="true">
      <div class="event-strip-bar">
        {events.map((e) => (
          <span
            key={e.mRID}
            class={`event-strip-event ${e.state}`}
            style={{ left: `${pct(e.startMs)}%`, width: `${Math.max(0.8, pct(e.endMs) - pct(e.startMs))}%` }}
            title={`${e.mRID}: ${eventLimits(e)}`}
          />
        ))}
      </div>
      <div class="event-strip-scale">
        <span>now</span>
        <span>{dateTime(to, tz).slice(11)}</span>
      </div>
    </div>
  );
}

/** "2 h 05 min", "12 min", "45 s". */
function duration(s: number): string {
  const r = Math.round(s);
  if (r < 60) return `${r} s`;
  if (r < 3600) return `${Math.floor(r / 60)} min`;
  return `${Math.floor(r / 3600)} h ${String(Math.floor((r % 3600) / 60)).padStart(2, '0')} min`;
}

function share(d: DayFigures): VNode | string {
  const counted = d.withinS + d.aboveS;
  if (counted === 0) return DASH;
  const pct = (100 * d.withinS) / counted;
  return (
    <>
      {`${d.aboveS ? pct.toFixed(1) : '100'} % within · `}
      <span class={d.aboveS ? 'warn-text' : ''}>{`${duration(d.aboveS)} above`}</span>
    </>
  );
}

/** The energy above the limit and the largest excess; `time` formats when it was. */
function excess(d: DayFigures, time: (t: number) => string): string {
  if (d.maxExcessAt === null) return 'never above';
  return `${d.excessWh.toFixed(d.excessWh < 10 ? 1 : 0)} Wh above; largest ${watts(d.maxExcessW)} at ${time(d.maxExcessAt)}`;
}

function lastEvent(c: ComplianceFigures, tz: string): string {
  const e = c.lastEvent;
  if (!e) return 'none yet';
  const met = e.tookMs === null ? 'not met yet' : `met ${(e.tookMs / 1000).toFixed(1)} s after its start`;
  return `${watts(e.limitW)} from ${dateTime(e.startMs, tz)}: ${met}`;
}

/** Whether the flow measured now is above the limit in force (with the accuracy). */
const aboveNow = (c: ComplianceFigures): boolean => c.limitW !== null && c.measuredW !== null && c.measuredW > c.limitW + (c.toleranceW ?? 0);

function Compliance({ u, tz }: { u: UtilityStatus; tz: string }): VNode {
  const over = u.compliance.some(aboveNow);
  return (
    <section class={`card${over ? ' attention' : ''}`} aria-labelledby="compliance-title" data-testid="utility-compliance">
      <h2 id="compliance-title">Compliance</h2>
      <p class="hint">
        Export and import at the connection point; generation is PV output plus battery discharge; load is all the site consumes (its loads and battery
        charging: import plus PV and battery discharge). Within: at most the limit plus the utility's measurement accuracy, the lower of 4 % or 100 W.
      </p>
      {u.compliance.length === 0 ? (
        <p class="hint">No export, import, generation or load limit in force in the last 7 days.</p>
      ) : (
        <div class="table-wrap">
          <table class="list">
            <thead>
              <tr>
                <th>Quantity</th>
                <th class="num">Limit / measured now</th>
                <th>Today</th>
                <th>Last 7 days</th>
                <th>Last event</th>
              </tr>
            </thead>
            <tbody>
              {u.compliance.map((c) => (
                <tr key={c.quantity} data-testid="compliance-row" data-quantity={c.quantity}>
                  <th>{QUANTITY_LABEL[c.quantity]}</th>
                  <td data-label="Limit / now" class={`num${aboveNow(c) ? ' warn-text' : ''}`} data-testid="compliance-now">
                    {`${c.limitW === null ? DASH : watts(c.limitW)} / ${c.measuredW === null ? DASH : watts(c.measuredW)}`}
                  </td>
                  <td data-label="Today" data-testid="compliance-today">
                    <div>
                      {share(c.today)}
                      <small data-testid="compliance-excess">{excess(c.today, (t) => clock(t, tz))}</small>
                      {c.today.unmeasuredS >= 0.5 ? <small>{`${duration(c.today.unmeasuredS)} not measured`}</small> : null}
                    </div>
                  </td>
                  <td data-label="7 days" data-testid="compliance-week">
                    <div>
                      {share(c.last7Days)}
                      <small>{excess(c.last7Days, (t) => dateTime(t, tz))}</small>
                    </div>
                  </td>
                  <td data-label="Last event" data-testid="compliance-last-event">
                    {lastEvent(c, tz)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/**
 * Why a resource of the utility's server is not taken (a document refused by validation, an HTTP
 * error), per resource until it is read again: the last error alone is overwritten by the next one.
 */
function Problems({ u, tz }: { u: UtilityStatus; tz: string }): VNode | null {
  const now = useNow();
  const problems = u.server.problems;
  if (problems.length === 0) return null;
  return (
    <section class="card attention" aria-labelledby="problems-title" data-testid="utility-problems">
      <h2 id="problems-title">Problems with the utility's server</h2>
      <p class="hint">What the site could not read or post; until the utility corrects it, what that resource says is not applied.</p>
      <ul class="plain problem-list">
        {problems.map((p) => (
          <li key={p.resource} data-testid="utility-problem" data-resource={p.resource}>
            <strong>{p.resource}</strong>{' '}
            <span class="warn-text" data-testid="problem-message">
              {p.message}
            </span>
            <small class="hint" data-testid="problem-since">
              {`since ${dateTime(p.firstSeenAt, tz)} (${ago(p.firstSeenAt, now)})${p.count > 1 ? `, ${p.count} times, last ${ago(p.lastSeenAt, now)}` : ''}`}
            </small>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Link({ u, tz }: { u: UtilityStatus; tz: string }): VNode {
  const now = useNow();
  const s = u.server;
  return (
    <section class={`card${s.reachable ? '' : ' attention'}`} aria-labelledby="server-title" data-testid="utility-server">
      <h2 id="server-title">
        Utility server{' '}
        <span class={`badge ${s.reachable ? 'badge-good' : 'badge-error'}`} data-testid="server-state">
          {s.reachable ? '✓ reachable' : '✕ unreachable'}
        </span>
      </h2>
      <dl class="figures wide">
        <Fig term="Address" value={s.url} testId="server-url" />
        <Fig
          term="Last contact"
          value={s.lastContactAt === null ? 'never' : `${ago(s.lastContactAt, now)} (${dateTime(s.lastContactAt, tz)})`}
          testId="server-contact"
        />
        <Fig term="Resources followed" value={String(s.resources)} />
        <Fig term="Clock offset to the server" value={`${(s.timeOffsetMs / 1000).toFixed(1)} s`} />
      </dl>
      {s.lastError && !s.reachable ? (
        <p class="warn-text" data-testid="server-error">
          {`Last error: ${s.lastError}`}
        </p>
      ) : null}
      {s.reachable ? null : <p class="hint">While the server is unreachable, the events and default controls last read go on, then the site's fallback.</p>}
    </section>
  );
}

function Certificate({ u, tz }: { u: UtilityStatus; tz: string }): VNode {
  const d = u.device;
  const soon = d.certDaysLeft < CERT_WARN_DAYS;
  return (
    <section class={`card${soon ? ' attention' : ''}`} aria-labelledby="cert-title" data-testid="utility-certificate">
      <h2 id="cert-title">Device certificate</h2>
      <dl class="figures wide">
        <Fig term="LFDI" value={d.lfdi} testId="cert-lfdi" />
        <Fig term="SFDI" value={d.sfdi} testId="cert-sfdi" />
        <Fig term="Subject" value={d.certSubject} testId="cert-subject" />
        <Fig term="Expires" value={`${dateTime(d.certExpiresAt, tz).slice(0, 10)} (${d.certDaysLeft} days left)`} testId="cert-expiry" />
      </dl>
      {soon ? (
        <p class="warn-text" data-testid="cert-warning">
          {d.certDaysLeft < 0
            ? 'The certificate has expired: the utility refuses the site. Ask the utility for a new one.'
            : `The certificate expires in ${d.certDaysLeft} days: ask the utility for a new one now.`}
        </p>
      ) : null}
    </section>
  );
}

const Fig = ({ term, value: v, testId }: { term: string; value: string; testId?: string }): VNode => (
  <div>
    <dt>{term}</dt>
    <dd data-testid={testId}>{v}</dd>
  </div>
);
