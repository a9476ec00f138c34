import type { SiteConfig } from '../config/site-config.js';
import { systemClock } from '../util/clock.js';
import { Scheduler } from '../util/scheduler.js';
import type { SiteRuntime } from '../site/site-runtime.js';
import type { StoreDb } from '../store/database.js';
import { AlarmStore, type AlarmChange, type AlarmRecord } from './alarm-store.js';
import { AlarmError } from './errors.js';
import { LiveRules } from './live-rules.js';
import { Outbox } from './outbox.js';
import { PeriodicRules } from './periodic-rules.js';
import { RuleStateStore } from './rule-state.js';
import { statfsProbe, type DiskProbe } from './rules/disk-free.js';
import { statusFinding } from './rules/status-code.js';
import { statusCode, type StatusCode } from './status-codes.js';
import { busOfSubject, meterOfSubject, SYSTEM_ACTOR, type Finding } from './types.js';
import { webhookMessage } from './webhook-message.js';
import { WebhookNotifier, type WebhookOptions } from './webhook-notifier.js';

export interface AlarmsOptions {
  readonly db: StoreDb;
  readonly site: SiteRuntime;
  /** The site configuration: `alarms` thresholds, the time zone for daily balances, the site name for webhooks. */
  readonly config: SiteConfig;
  readonly now?: () => number;
  readonly diskProbe?: DiskProbe;
  /** How often the database and disk rules run (default 60 s); 0 = only when evaluateNow() is called. */
  readonly periodicMs?: number;
  /** Runs the periodic rules (job "alarm periodic rules"); by default one of its own. */
  readonly scheduler?: Scheduler;
  readonly webhook?: WebhookOptions;
  readonly onError?: (what: string, err: unknown) => void;
}

export interface StatusReport {
  readonly code: StatusCode;
  /** The meter's status alarm after the report; null when none is open and none was cleared. */
  readonly alarm: AlarmRecord | null;
}

export interface Alarms {
  readonly store: AlarmStore;
  /** Null when no webhook is configured. */
  readonly notifier: WebhookNotifier | null;
  /** Judges every rule now (without counting a poll cycle) and applies the result. */
  evaluateNow(): Promise<void>;
  /** A meter's operating status code (1000-1025) from the AMI head end or a technician. */
  reportStatusCode(meter: string, code: number, at?: number, by?: string): StatusReport;
  /** Every raise, update, acknowledgement and clear, told after it is stored (the live stream). */
  subscribe(listener: (change: AlarmChange) => void): () => void;
  stop(): Promise<void>;
}

const DEFAULT_PERIODIC_MS = 60_000;

/**
 * Starts the alarm engine: live rules after every poll cycle (site.live), database and disk rules
 * on a slower timer, and the webhook outbox. Rule errors are reported, never thrown into the poller.
 */
export function startAlarms(o: AlarmsOptions): Alarms {
  const now = o.now ?? systemClock;
  const onError = o.onError ?? ((what: string, err: unknown) => console.error(`alarms: ${what} failed:`, err));
  const cfg = o.config.alarms;
  const outbox = new Outbox(o.db);
  let notifier: WebhookNotifier | null = null;
  const listeners = new Set<(change: AlarmChange) => void>();
  const tell = (change: AlarmChange): void => {
    for (const listener of listeners) {
      try {
        listener(change);
      } catch (e) {
        onError('alarm listener', e);
      }
    }
  };
  const onChange = (change: AlarmChange): void => {
    if (notifier) {
      outbox.enqueue(webhookMessage(change, o.config.site), change.event.at); // same transaction as the change
      notifier.kick();
    }
    // Listeners hear of it after the commit: nothing they do can undo the alarm.
    if (listeners.size > 0) queueMicrotask(() => tell(change));
  };
  const store = new AlarmStore(o.db, { now, onChange });
  if (cfg.webhook) notifier = new WebhookNotifier(outbox, cfg.webhook, { onError, ...o.webhook });
  const live = new LiveRules({ site: o.site, config: cfg, ruleState: new RuleStateStore(o.db), isOpen: (r, s) => store.isOpen(r, s), now });
  const periodic = new PeriodicRules({ db: o.db, site: o.site, config: o.config, diskProbe: o.diskProbe ?? statfsProbe, now, watchingSince: now(), onError });

  const apply = (findings: readonly Finding[]): void => {
    const at = now();
    for (const f of findings) {
      if (f.active) store.raise({ rule: f.rule, subject: f.subject, severity: f.severity, condition: f.condition, message: f.message, at });
      else store.clear(f.rule, f.subject, { at, message: f.message });
    }
  };

  /** Alarms of meters (and buses) that were removed or disabled would otherwise stay open for ever. */
  const sweepOrphans = (): void => {
    for (const a of store.list({ state: 'open', limit: 100_000 })) {
      const bus = busOfSubject(a.subject);
      if (bus !== null && !o.site.bus(bus)) store.clear(a.rule, a.subject, { message: `bus ${bus} is no longer configured` });
      const key = meterOfSubject(a.subject);
      const meter = key === null ? null : o.site.meter(key);
      if (key === null || meter?.enabled) continue;
      store.clear(a.rule, a.subject, { message: meter ? `${key} is disabled` : `${key} was removed from the site` });
    }
  };

  // One periodic run at a time: a slow disk probe must not overlap the next tick or evaluateNow().
  let chain: Promise<void> = Promise.resolve();
  const runPeriodic = (): Promise<void> => {
    chain = chain
      .then(async () => {
        apply(await periodic.evaluate());
        sweepOrphans();
      })
      .catch((e: unknown) => onError('periodic rules', e));
    return chain;
  };

  const unsubscribe = o.site.live.subscribe((e) => {
    try {
      apply(live.afterCycle(e.report.bus));
    } catch (err) {
      onError('live rules', err);
    }
  });
  const periodicMs = o.periodicMs ?? DEFAULT_PERIODIC_MS;
  const scheduler = o.scheduler ?? new Scheduler({ clock: now, onError });
  const stopPeriodic = periodicMs > 0 ? scheduler.every('alarm periodic rules', periodicMs, runPeriodic, { runNow: true }) : null;
  notifier?.kick(); // messages left undelivered before a restart

  return {
    store,
    notifier,
    async evaluateNow() {
      apply(live.judgeAll());
      await runPeriodic();
    },
    reportStatusCode(meter, code, at = now(), by = SYSTEM_ACTOR) {
      if (!o.site.meter(meter)) throw new AlarmError('not_found', `no meter ${meter}`);
      const entry = statusCode(code);
      const f = statusFinding(meter, entry);
      if (f.active)
        return {
          code: entry,
          alarm: store.raise({ rule: f.rule, subject: f.subject, severity: f.severity, condition: f.condition, message: f.message, at, by }).alarm,
        };
      return { code: entry, alarm: store.clear(f.rule, f.subject, { at, by, message: f.message }) };
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    async stop() {
      unsubscribe();
      await stopPeriodic?.();
      await chain;
      await notifier?.stop();
    },
  };
}
