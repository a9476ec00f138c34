import type Database from 'better-sqlite3';
import type { ProcessImage } from '../channels/process-image.js';
import type { SiteConfig } from '../config/site-config.js';
import { ZonedClock } from '../store/zoned-clock.js';
import {
  COMPLIANCE_QUANTITIES,
  LIMIT_OF,
  measureFlows,
  observe,
  pruneDays,
  sumDays,
  toleranceW,
  type ComplianceQuantity,
  type ComplianceState,
  type DayFigures,
  type LimitInForce,
  type Sample,
} from './compliance.js';
import { ComplianceStore } from './compliance-store.js';
import type { ScheduleResult } from './schedule.js';
import type { UtilityRuntime } from './utility-runtime.js';

/**
 * Feeds the compliance figures (compliance.ts) from each evaluation of the utility's schedule and the
 * flows measured in the process image at that moment, on the system clock, and keeps them in SQLite
 * (compliance-store.ts) every 5 minutes, at a day's end and at stop.
 *
 * Measured (docs/sign-conventions.md): export and import from the grid meter's `ActivePower` (import
 * positive); generation is PV production plus battery discharge; load is the site's consumption, grid
 * import plus PV and battery discharge (its loads and battery charging, site-load.ts), as the
 * utility-limits controller bounds it (compliance.ts `measureFlows`).
 */
export interface FlowComponents {
  readonly grid: string | null;
  readonly pv: readonly string[];
  readonly battery: readonly string[];
}

export interface ComplianceFigures {
  readonly quantity: ComplianceQuantity;
  readonly limit: (typeof LIMIT_OF)[ComplianceQuantity];
  /** The limit in force now (W), null when none. */
  readonly limitW: number | null;
  readonly toleranceW: number | null;
  readonly measuredW: number | null;
  readonly today: DayFigures;
  readonly last7Days: DayFigures;
  readonly lastEvent: {
    readonly eventMRID: string;
    readonly programMRID: string;
    readonly limitW: number;
    readonly startMs: number;
    readonly metAt: number | null;
    readonly tookMs: number | null;
  } | null;
}

const KEEP_DAYS = 8;
const DAY_MS = 86_400_000;

export class ComplianceRecorder {
  private state: ComplianceState;
  private readonly zone: ZonedClock;
  private savedAt: number | null = null;

  constructor(
    private readonly o: {
      readonly store: ComplianceStore;
      readonly image: ProcessImage;
      readonly components: FlowComponents;
      readonly timeZone: string;
      /** Longer gaps between samples are not counted (ms). */
      readonly maxGapMs: number;
      readonly saveEveryMs?: number;
    },
  ) {
    this.zone = new ZonedClock(o.timeZone);
    this.state = o.store.load();
  }

  /** One evaluation: the schedule's result at `at` (system clock), with the client's offset to server time. */
  sample(at: number, r: ScheduleResult, timeOffsetMs: number): void {
    const limits: Partial<Record<ComplianceQuantity, LimitInForce>> = {};
    for (const q of COMPLIANCE_QUANTITIES) {
      const l = r.limits[LIMIT_OF[q]];
      if (!l || typeof l.value !== 'number') continue;
      const src = l.source;
      const ev = src.kind === 'event' ? r.events.find((e) => e.mRID === src.eventMRID) : undefined;
      limits[q] = {
        limitW: l.value,
        event: src.kind === 'event' ? { mRID: src.eventMRID, programMRID: src.programMRID, startMs: ev ? ev.start * 1000 - timeOffsetMs : at } : null,
      };
    }
    const s: Sample = { at, day: this.zone.day(at), limits, measured: this.measure() };
    const before = this.state.previous;
    this.state = pruneDays(observe(this.state, s, this.o.maxGapMs), KEEP_DAYS);
    const dayEnded = before !== null && before.day !== s.day;
    if (this.savedAt === null || dayEnded || at - this.savedAt >= (this.o.saveEveryMs ?? 300_000)) this.save(at);
  }

  save(at: number): void {
    this.o.store.save(this.state);
    this.savedAt = at;
  }

  /** Today's and the last 7 days' figures per quantity with a limit now or in those days. */
  figures(now: number): ComplianceFigures[] {
    const today = this.zone.day(now);
    const weekFrom = this.zone.day(now - 6 * DAY_MS);
    const p = this.state.previous;
    const measured = this.measure();
    return COMPLIANCE_QUANTITIES.flatMap((q) => {
      const week = Object.entries(this.state.days)
        .filter(([d]) => d >= weekFrom && d <= today)
        .flatMap(([, f]) => (f[q] ? [f[q]] : []));
      const limitW = p?.limits[q]?.limitW ?? null;
      const e = this.state.lastEvent[q];
      if (week.length === 0 && limitW === null && !e) return [];
      return [
        {
          quantity: q,
          limit: LIMIT_OF[q],
          limitW,
          toleranceW: limitW === null ? null : toleranceW(limitW),
          measuredW: measured[q],
          today: sumDays(this.state.days[today]?.[q] ? [this.state.days[today][q]] : []),
          last7Days: sumDays(week),
          lastEvent: e ? { ...e, tookMs: e.metAt === null ? null : Math.max(0, e.metAt - e.startMs) } : null,
        },
      ];
    });
  }

  private measure(): Record<ComplianceQuantity, number | null> {
    const c = this.o.components;
    const w = (component: string): number | null => {
      const v = this.o.image.get(component, 'ActivePower');
      return v?.quality === 'GOOD' && v.value !== null ? v.value : null;
    };
    return measureFlows(c.grid === null ? null : w(c.grid), c.pv.map(w), c.battery.map(w));
  }
}

/** The site's recorder: flows from the control section's grid-meter, PV and battery assets, fed by every evaluation. */
export function complianceRecorder(
  u: UtilityRuntime,
  o: { readonly db: Database.Database; readonly config: SiteConfig; readonly image: ProcessImage },
): ComplianceRecorder {
  const assets = o.config.control?.assets ?? [];
  const of = (type: string): string[] => assets.filter((a) => a.type === type).map((a) => a.component);
  const r = new ComplianceRecorder({
    store: new ComplianceStore(o.db),
    image: o.image,
    components: { grid: of('grid-meter')[0] ?? null, pv: of('pv'), battery: of('battery') },
    timeZone: o.config.site.timezone,
    maxGapMs: Math.max(5000, 5 * u.config.evaluateEveryMs),
  });
  u.onEvaluate((at, result) => r.sample(at, result, u.client.timeOffsetMs));
  return r;
}
