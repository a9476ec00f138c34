import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import type { ProcessImage } from '../channels/process-image.js';
import type { Clock } from '../util/clock.js';
import { CsipClient } from './client.js';
import type { CsipConfig } from './csip-config.js';
import { siteReporting, type SiteReportingSource } from './site-reporting.js';
import { CsipPubSub } from './pubsub-runtime.js';
import { activeLimits, QUANTITIES, type LimitValues, type ScheduleResult } from './schedule.js';
import { anticipate, RAMP_START, rampTmsLookup, setGradWInForce, stepRamp, type RampResult, type RampState } from './ramp.js';
import { EVALUATED_CHANNEL, SOURCE_CODE, UTILITY_CHANNEL, UTILITY_COMPONENT } from './utility-channels.js';

/**
 * Runs the 2030.5 client of the site file's `csip:` section and, every `evaluateEveryMs`, writes the
 * limits in force into the process image (utility-channels.ts) on the system's clock. The client never
 * blocks the start: before its first read (or with the server unreachable from the start) the
 * fallback is in force; once read, events and defaults go on while the server is away.
 */
export function fallbackValues(f: CsipConfig['fallback']): LimitValues {
  const v: LimitValues = {};
  if (f.exportLimitW !== undefined) v.opModExpLimW = f.exportLimitW;
  if (f.generationLimitW !== undefined) v.opModGenLimW = f.generationLimitW;
  if (f.importLimitW !== undefined) v.opModImpLimW = f.importLimitW;
  if (f.loadLimitW !== undefined) v.opModLoadLimW = f.loadLimitW;
  if (f.connect !== undefined) v.opModConnect = f.connect;
  if (f.energize !== undefined) v.opModEnergize = f.energize;
  return v;
}

export class UtilityRuntime {
  readonly client: CsipClient;
  /** Subscriptions and the notification endpoint, when the csip section has `notifications`. */
  readonly pubsub: CsipPubSub | null;
  private subsTimer: NodeJS.Timeout | null = null;
  readonly certExpiresAt: number;
  private timer: NodeJS.Timeout | null = null;
  private last: ScheduleResult | null = null;
  private lastAt: number | null = null;
  private ramp: RampState = RAMP_START;
  private lastRamp: RampResult | null = null;
  private readonly closeReporting: () => void;
  private readonly evaluated: Array<(at: number, r: ScheduleResult) => void> = [];

  constructor(
    readonly config: CsipConfig,
    private readonly image: ProcessImage,
    private readonly clock: Clock,
    /** The site's DERs and store, for the DER reports, telemetry and registration (site-reporting.ts). */
    site?: SiteReportingSource,
    /** The site's rated power (W) that setGradW is a share of, when `ramp.ratedW` is not configured. */
    private readonly siteRatedW: () => number | undefined = () => undefined,
  ) {
    const cert = readFileSync(config.cert, 'utf8');
    const key = readFileSync(config.key, 'utf8');
    const ca = readFileSync(config.ca, 'utf8');
    this.certExpiresAt = Date.parse(new X509Certificate(cert).validTo);
    // DERSettings report the ramp this runtime applies (called later, once the client exists).
    const reporting = site ? siteReporting(config, image, clock, { ...site, setGradW: () => this.appliedSetGradW() }) : { options: {}, close: () => undefined };
    this.closeReporting = () => reporting.close();
    this.client = new CsipClient({
      baseUrl: config.server,
      dcapPath: config.dcapPath,
      cert,
      key,
      ca,
      clock,
      pageSize: config.poll.pageSize,
      retryMs: config.poll.retryMs,
      fallback: fallbackValues(config.fallback),
      ...(config.pin !== undefined ? { pin: config.pin } : {}),
      ...(config.poll.rateS !== undefined ? { pollRateS: config.poll.rateS } : {}),
      ...reporting.options,
    });
    const n = config.notifications;
    this.pubsub = n ? new CsipPubSub(this.client, { ...n, clock, cert, key, ca, retryMs: config.poll.retryMs }) : null;
  }

  start(): void {
    this.evaluate();
    void this.client.start(this.config.poll.tickMs).catch(() => undefined);
    const pubsub = this.pubsub;
    if (pubsub) {
      void pubsub.start().catch((e: unknown) => {
        this.client.noteProblem('notification endpoint', `notification endpoint: ${e instanceof Error ? e.message : String(e)}`);
      });
      this.subsTimer = setInterval(() => void pubsub.sync(), this.config.poll.tickMs);
      this.subsTimer.unref();
    }
    this.timer = setInterval(() => this.evaluate(), this.config.evaluateEveryMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.subsTimer) clearInterval(this.subsTimer);
    this.subsTimer = null;
    await this.pubsub?.stop();
    await this.client.stop();
    this.closeReporting();
  }

  /** Writes the limits in force now into the image (also called by tests between timer ticks). */
  evaluate(): ScheduleResult {
    const now = this.clock();
    const r = this.rampLimits(this.client.limits(), now);
    const values: Record<string, number> = { [EVALUATED_CHANNEL]: 1 };
    for (const q of QUANTITIES) {
      const l = r.limits[q];
      if (!l) continue;
      values[UTILITY_CHANNEL[q]] = typeof l.value === 'boolean' ? (l.value ? 1 : 0) : l.value;
      values[`${UTILITY_CHANNEL[q]}Source`] = SOURCE_CODE[l.source.kind];
    }
    // Replaced whole, so a quantity no longer set leaves no channel behind.
    this.image.remove(UTILITY_COMPONENT);
    this.image.update(UTILITY_COMPONENT, values, now, this.config.evaluateEveryMs);
    this.last = r;
    this.lastAt = now;
    for (const fn of this.evaluated) fn(now, r);
    return r;
  }

  /** Called after every evaluation with its time and result (the compliance figures). */
  onEvaluate(fn: (at: number, r: ScheduleResult) => void): void {
    this.evaluated.push(fn);
  }

  /** The rated power the ramp uses (W): configured, else the site's. */
  ratedW(): number | undefined {
    return this.config.ramp.ratedW ?? this.siteRatedW();
  }

  /**
   * The setGradW the site applies (hundredths of a percent per second), for DERSettings: the one in
   * force when the ramp is on and has a rating to work with, else undefined (none is claimed).
   */
  appliedSetGradW(): number | undefined {
    return this.config.ramp.enabled && this.ratedW() !== undefined ? setGradWInForce(this.client.programs()) : undefined;
  }

  /** Quantities still ramping up at the last evaluation (ramp.ts). */
  ramping(): RampResult['ramping'] {
    return this.lastRamp?.ramping ?? {};
  }

  /** The schedule's limits, a tighter one starting within `anticipateS` applied now, with the utility's ramp (ramp.ts). */
  private rampLimits(r: ScheduleResult, nowMs: number): ScheduleResult {
    const programs = this.client.programs();
    const leadS = this.config.ramp.anticipateS;
    const ahead =
      leadS > 0
        ? activeLimits({ programs, seed: this.client.identity.lfdi, fallback: fallbackValues(this.config.fallback) }, this.client.now() / 1000 + leadS)
        : null;
    const limits = ahead ? anticipate(r.limits, ahead.limits) : r.limits;
    if (!this.config.ramp.enabled) return { ...r, limits };
    const res = stepRamp(this.ramp, {
      nowMs,
      limits,
      setGradW: setGradWInForce(programs),
      rampTmsOf: rampTmsLookup(programs),
      ratedW: this.ratedW(),
      bridgeGapMs: this.config.ramp.bridgeGapS * 1000,
    });
    this.ramp = res.state;
    this.lastRamp = res;
    return { ...r, limits: res.limits };
  }

  /** The last evaluation, for the API. */
  lastEvaluation(): { readonly at: number; readonly result: ScheduleResult } | null {
    return this.last && this.lastAt !== null ? { at: this.lastAt, result: this.last } : null;
  }
}
