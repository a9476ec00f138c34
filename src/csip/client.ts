import { Agent, request } from 'node:https';
import type { Clock } from '../util/clock.js';
import { DerReporter } from './der-reporter.js';
import type { DerReport } from './der-reports.js';
import { deviceIdentity, type DeviceIdentity } from './lfdi.js';
import {
  hasReadings,
  meterReadingListXml,
  mirrorMRID,
  mirrorUsagePointXml,
  ROLE_DER,
  ROLE_SITE,
  type MeasuredPoint,
  type TelemetryReport,
} from './mirror-readings.js';
import { ProblemLog, type Problem } from './problems.js';
import { MemoryTelemetryQueue, type TelemetryQueue } from './telemetry-queue.js';
import {
  CSIPAUS_NS,
  CsipParseError,
  parseResource,
  type DefaultDERControl,
  type DERControl,
  type DERProgram,
  type DeviceCapability,
  type EndDevice,
  type FunctionSetAssignments,
  type Registration,
  type Resource,
  type ResourceName,
  type Time,
} from './resources.js';
import { activeLimits, eventTimelines, responsesDue, type LimitValues, type ProgramInput, type ResponseDue, type ScheduleResult } from './schedule.js';

/**
 * The IEEE 2030.5 / CSIP-AUS client (issue 11 item 1): discovery from DeviceCapability through the
 * EndDevice that matches this device's LFDI (or SFDI), its Registration (PIN checked when configured),
 * FunctionSetAssignments, DERPrograms, their DERControl lists and DefaultDERControls; each resource
 * polled at its own pollRate on the system Clock; lists read page by page (s, l) until `all`; time
 * taken from the server's Time resource as an offset on the client's view of time (the system clock is
 * never set); Responses posted to each event's replyTo.
 *
 * HTTPS with mutual TLS: the device certificate and key, and full verification of the server's chain
 * and name against the configured CA. There is no option to switch verification off.
 */

export interface CsipClientOptions {
  /** The server's origin, e.g. https://utility.example:8443 (its certificate must name this host). */
  readonly baseUrl: string;
  /** Path of DeviceCapability. Default /dcap. */
  readonly dcapPath?: string;
  /** Device certificate (PEM), its key and the CA (PEM) that signs the server's certificate. */
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
  readonly clock: Clock;
  /** Items asked per page of a list. Default 10. */
  readonly pageSize?: number;
  /** The registration PIN expected from the utility; unset: not checked. */
  readonly pin?: number;
  readonly timeoutMs?: number;
  /** After a failed request, the resource is tried again after this long (or its pollRate if shorter). Default 30 s. */
  readonly retryMs?: number;
  /** The site's limits when neither an event nor a default sets a quantity. */
  readonly fallback?: LimitValues;
  /** Reads every resource at this period (s) instead of its pollRate (a test server, a site's own policy). */
  readonly pollRateS?: number;
  /**
   * The DERs behind this device, in the order of the server's DERList: their capability is PUT once
   * per DER resource, their settings and status at every read of the DERList and when what they report
   * changes (der-reporter.ts; CACTUS expects settings and status together after a change). Unset: the
   * DERList is not read.
   */
  readonly ders?: () => readonly (DerReport | undefined)[];
  /**
   * In-band registration: when the EndDeviceList holds no EndDevice with this device's LFDI or SFDI, POST
   * one (LFDI, SFDI, this DeviceCategoryType bit field) to the list and read it again. Unset: the device
   * must be registered out of band.
   */
  readonly register?: { readonly deviceCategory: number };
  /** The site's connection point (the NMI in Australia): PUT once to the EndDevice's ConnectionPointLink (CSIP-AUS). */
  readonly connectionPointId?: string;
  /**
   * Telemetry (mirror-readings.ts): the site's MirrorUsagePoint and one per DER are created in the
   * server's MirrorUsagePointList and their readings posted at each one's postRate. Unset: none.
   */
  readonly telemetry?: () => TelemetryReport;
  /**
   * Where the readings taken at each postRate wait until the server accepts them (telemetry-queue.ts):
   * posted oldest first with the time they were taken. Default: in memory, 10,000 samples.
   */
  readonly telemetryQueue?: TelemetryQueue;
}

export type Kind = 'dcap' | 'time' | 'edevList' | 'registration' | 'fsaList' | 'derpList' | 'dercList' | 'dderc' | 'derList' | 'mupList';

interface Node {
  readonly href: string;
  readonly kind: Kind;
  readonly parent: string | null;
  /** Poll period when no pollRate is given by the resource (the parent list's). */
  readonly inheritedRateS: number;
  everyMs: number;
  nextDueMs: number;
}

interface Child {
  readonly href: string;
  readonly kind: Kind;
  readonly inheritedRateS: number;
}

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** The default pollRate of IEEE 2030.5 (seconds). */
export const DEFAULT_POLL_RATE_S = 900;
const MAX_PAGES = 100;
/** Queued readings posted per tick at most (a long backlog drains over several ticks, reads go on between). */
const DRAIN_PER_TICK = 200;

/** Requests kept in `log`; older ones are dropped. */
export const REQUEST_LOG_SIZE = 200;
/** A server's answer larger than this is refused before it is parsed (2030.5 lists are paged). */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

export interface RequestRecord {
  readonly method: Method;
  readonly href: string;
  readonly status: number;
}

export class CsipHttpError extends Error {
  constructor(
    readonly href: string,
    readonly status: number,
    method = 'GET',
  ) {
    super(`${method} ${href}: HTTP ${status}`);
    this.name = 'CsipHttpError';
  }
}

/**
 * Parses one page of a list; an error in an item names its place in the whole list, not in the page
 * (`DERControlList/DERControl[4]/mRID` for the second item of the page from s=2).
 */
function pageOf<N extends ResourceName>(name: N, xml: string, offset: number): Resource<N> {
  try {
    return parseResource(name, xml);
  } catch (e) {
    if (!(e instanceof CsipParseError) || offset === 0) throw e;
    throw new CsipParseError(
      e.path.replace(/^(\w+\/\w+)\[(\d+)\]/, (_m: string, at: string, i: string) => `${at}[${offset + Number(i)}]`),
      e.detail,
    );
  }
}

export class CsipClient {
  readonly identity: DeviceIdentity;
  private readonly agent: Agent;
  private readonly nodes = new Map<string, Node>();
  private readonly pageSize: number;
  private readonly retryMs: number;
  private offsetMs = 0;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<string[]> | null = null;
  private posting: Promise<ResponseDue[]> | null = null;
  private readonly memory = new Map<string, { firstSeen: number; sent: Set<number> }>();
  /** DER resources whose capability and settings, and the connection point, were accepted. */
  private readonly reported = new Set<string>();
  /** The MirrorUsagePoints created, by mRID: where and how often their readings are taken (nextPostMs: the next sample). */
  private readonly mirrors = new Map<string, { href: string; postRateS: number; nextPostMs: number }>();
  /** Readings taken and not yet accepted, and when posting them is tried again after a failure. */
  readonly telemetryQueue: TelemetryQueue;
  private drainAtMs = -Infinity;
  /** PUTs the DER reports: at each DERList read and when settings or status change (null without `ders`). */
  private readonly derReporter: DerReporter | null;

  dcap: DeviceCapability | null = null;
  time: Time | null = null;
  endDevice: EndDevice | null = null;
  registration: Registration | null = null;
  /** By list href. */
  readonly fsaLists = new Map<string, readonly FunctionSetAssignments[]>();
  readonly programLists = new Map<string, readonly DERProgram[]>();
  readonly controlLists = new Map<string, readonly DERControl[]>();
  readonly defaults = new Map<string, DefaultDERControl>();
  /** Whether the last request reached the server, and the last error (anywhere; `problems()` per resource). */
  reachable = false;
  lastError: string | null = null;
  private readonly problemLog = new ProblemLog();
  /** When the server last answered (the Clock's ms), null before. */
  lastContactAt: number | null = null;
  /** The last requests (at most REQUEST_LOG_SIZE), for diagnostics: a site runs for months. */
  readonly log: RequestRecord[] = [];
  /** The `subscribable` attribute of each resource read (0 when absent), by href: where subscriptions.ts may subscribe. */
  readonly subscribable = new Map<string, { readonly kind: Kind; readonly code: number }>();
  /** Documents delivered by notifications, read in place of the next GET of their href (page 0). */
  private readonly notified = new Map<string, string>();

  constructor(private readonly o: CsipClientOptions) {
    this.identity = deviceIdentity(o.cert);
    this.pageSize = o.pageSize ?? 10;
    this.retryMs = o.retryMs ?? 30_000;
    this.telemetryQueue = o.telemetryQueue ?? new MemoryTelemetryQueue(10_000);
    const put = async (href: string, body: string): Promise<void> => {
      const res = await this.http('PUT', href, body);
      if (res.status < 200 || res.status >= 300) throw new CsipHttpError(href, res.status, 'PUT');
    };
    this.derReporter = o.ders ? new DerReporter(o.ders, put) : null;
    this.agent = new Agent({ keepAlive: true, cert: o.cert, key: o.key, ca: o.ca, rejectUnauthorized: true, timeout: o.timeoutMs ?? 10_000 });
  }

  /** The client's view of the time (epoch ms): the Clock plus the offset from the server's Time. */
  now(): number {
    return this.o.clock() + this.offsetMs;
  }

  /** The offset applied to the Clock (ms). */
  get timeOffsetMs(): number {
    return this.offsetMs;
  }

  /** Discovers (the first call) and refreshes every resource whose pollRate has elapsed; returns the hrefs read. */
  tick(): Promise<string[]> {
    if (this.running) return this.running;
    const run: Promise<string[]> = this.runDue().finally(() => {
      if (this.running === run) this.running = null;
    });
    this.running = run;
    return run;
  }

  /** Runs tick() at once and then every `everyMs` of real time (timers unref'd). */
  async start(everyMs = 1000): Promise<void> {
    await this.tick();
    this.timer = setInterval(
      () =>
        void this.tick()
          .then(() => this.postResponses())
          .catch(() => undefined),
      everyMs,
    );
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
    this.agent.destroy();
  }

  /** When the next read or readings post falls due on the Clock (ms); Infinity before the first tick. */
  nextDueMs(): number {
    const retry = this.telemetryQueue.size > 0 && this.drainAtMs > this.o.clock() ? [this.drainAtMs] : [];
    return Math.min(
      ...[...this.nodes.values()].map((n) => n.nextDueMs),
      ...[...this.mirrors.values()].map((m) => m.nextPostMs),
      ...retry,
      this.derReporter?.nextDueMs() ?? Infinity,
    );
  }

  /** Resources known to the poller with their period (for tests and the API). */
  polled(): { href: string; kind: Kind; everyMs: number; nextDueMs: number }[] {
    return [...this.nodes.values()].map((n) => ({ href: n.href, kind: n.kind, everyMs: n.everyMs, nextDueMs: n.nextDueMs }));
  }

  /** The programs with their controls and default control, as last read. */
  programs(): ProgramInput[] {
    const out: ProgramInput[] = [];
    for (const list of this.programLists.values()) {
      for (const p of list) {
        const controls = p.DERControlListLink ? (this.controlLists.get(p.DERControlListLink.href) ?? []) : [];
        const defaultControl = p.DefaultDERControlLink ? this.defaults.get(p.DefaultDERControlLink.href) : undefined;
        out.push({ mRID: p.mRID, primacy: p.primacy, controls, defaultControl });
      }
    }
    return out;
  }

  /** The limits in force now (server time) with their sources, and every event's state. */
  limits(): ScheduleResult {
    return activeLimits({ programs: this.programs(), seed: this.identity.lfdi, fallback: this.o.fallback ?? {} }, this.now() / 1000);
  }

  /**
   * Applies a resource a notification delivered (subscriptions.ts): `xml` (a whole document, or undefined
   * to read it again) is read in place of the GET of `href` by the same code as a poll, so its scheduling,
   * children and Responses are those of a poll; the resource's next GET stays a pollRate after its last
   * one. Runs after any read in progress. Returns whether `href` is a resource this client reads and it
   * was read.
   */
  applyNotified(href: string, xml: string | undefined): Promise<boolean> {
    const run: Promise<string[]> = (this.running ?? Promise.resolve([]))
      .catch(() => [])
      .then(async () => {
        const n = this.nodes.get(href);
        if (!n) return [];
        if (xml !== undefined) this.notified.set(href, xml);
        // Polls keep their cadence: the next GET is a period after the last one (at the pollRate now given).
        const lastGetMs = n.nextDueMs - n.everyMs;
        const read: string[] = [];
        try {
          await this.refresh(n, read);
        } finally {
          this.notified.delete(href);
        }
        if (xml !== undefined && read.includes(href) && Number.isFinite(lastGetMs)) n.nextDueMs = lastGetMs + n.everyMs;
        return read;
      })
      .finally(() => {
        if (this.running === run) this.running = null;
      });
    this.running = run;
    return run.then((read) => read.includes(href));
  }

  /** A request to the server with this client's identity (subscriptions.ts); the answer's status, body and Location. */
  async send(method: Method, href: string, body?: string): Promise<{ status: number; body: string; location: string | undefined }> {
    let res: { status: number; body: string; location: string | undefined };
    try {
      res = await this.http(method, href, body);
    } catch (e) {
      this.fail(href, e);
      throw e;
    }
    if (res.status >= 200 && res.status < 300) this.problemLog.clear(href);
    return res;
  }

  /**
   * Posts the Responses due (received, started, completed, cancelled, superseded, failures); returns those
   * accepted. Calls run one after another (the site's timer and a notification may call at once), so
   * each status is posted once.
   */
  postResponses(): Promise<ResponseDue[]> {
    const run: Promise<ResponseDue[]> = (this.posting ?? Promise.resolve([]))
      .catch(() => [])
      .then(() => this.postDue())
      .finally(() => {
        if (this.posting === run) this.posting = null;
      });
    this.posting = run;
    return run;
  }

  private async postDue(): Promise<ResponseDue[]> {
    const nowS = this.now() / 1000;
    const events = eventTimelines({ programs: this.programs(), seed: this.identity.lfdi }, nowS);
    for (const e of events) if (!this.memory.has(e.mRID)) this.memory.set(e.mRID, { firstSeen: nowS, sent: new Set() });
    const due = responsesDue(events, this.memory);
    const done: ResponseDue[] = [];
    for (const r of due) {
      const body =
        `<DERControlResponse xmlns="urn:ieee:std:2030.5:ns"><createdDateTime>${Math.floor(nowS)}</createdDateTime>` +
        `<endDeviceLFDI>${this.identity.lfdi}</endDeviceLFDI><status>${r.status}</status><subject>${r.mRID}</subject></DERControlResponse>`;
      try {
        const res = await this.http('POST', r.replyTo, body);
        if (res.status >= 200 && res.status < 300) {
          this.memory.get(r.mRID)?.sent.add(r.status);
          this.problemLog.clear(r.replyTo);
          done.push(r);
        } else this.noteProblem(r.replyTo, `POST ${r.replyTo}: HTTP ${res.status}`);
      } catch (e) {
        this.fail(r.replyTo, e);
        break;
      }
    }
    return done;
  }

  private async runDue(): Promise<string[]> {
    const read: string[] = [];
    if (this.nodes.size === 0) this.nodes.set(this.dcapPath, this.node({ href: this.dcapPath, kind: 'dcap', inheritedRateS: DEFAULT_POLL_RATE_S }, null));
    const due = [...this.nodes.values()].filter((n) => n.nextDueMs <= this.o.clock());
    for (const n of due) if (this.nodes.get(n.href) === n) await this.refresh(n, read);
    await this.reportChanges();
    await this.postReadings();
    return read;
  }

  private get dcapPath(): string {
    return this.o.dcapPath ?? '/dcap';
  }

  private node(c: Child, parent: string | null): Node {
    return {
      href: c.href,
      kind: c.kind,
      parent,
      inheritedRateS: c.inheritedRateS,
      everyMs: (this.o.pollRateS ?? c.inheritedRateS) * 1000,
      nextDueMs: -Infinity,
    };
  }

  /** The failure of a request to `href` (or of what `href` names): the last error, and kept against it until it succeeds. */
  private fail(href: string, e: unknown): void {
    this.noteProblem(href, e instanceof Error ? e.message : String(e));
  }

  /** Records a problem with `what` (a resource's href, or e.g. "notification endpoint"); it is also the last error. */
  noteProblem(what: string, message: string): void {
    this.lastError = message;
    this.problemLog.note(what, message, this.o.clock());
  }

  /** The problems per resource not yet cleared by a success, newest first (at most MAX_PROBLEMS). */
  problems(): Problem[] {
    return this.problemLog.list();
  }

  /** Reads one resource, schedules its next read, then walks to its children (new ones read at once). */
  private async refresh(n: Node, read: string[]): Promise<void> {
    let children: Child[];
    let rateS: number | undefined;
    try {
      ({ children, rateS } = await this.readNode(n));
      read.push(n.href);
      this.problemLog.clear(n.href);
    } catch (e) {
      this.fail(n.href, e);
      n.nextDueMs = this.o.clock() + Math.min(this.retryMs, n.everyMs);
      return;
    }
    n.everyMs = (this.o.pollRateS ?? rateS ?? n.inheritedRateS) * 1000;
    n.nextDueMs = this.o.clock() + n.everyMs;
    const keep = new Set(children.map((c) => c.href));
    for (const old of [...this.nodes.values()]) if (old.parent === n.href && !keep.has(old.href)) this.drop(old);
    for (const c of children) {
      if (this.nodes.has(c.href)) continue;
      const child = this.node(c, n.href);
      this.nodes.set(c.href, child);
      await this.refresh(child, read);
    }
  }

  private drop(n: Node): void {
    this.nodes.delete(n.href);
    this.subscribable.delete(n.href);
    this.controlLists.delete(n.href);
    this.programLists.delete(n.href);
    this.fsaLists.delete(n.href);
    this.defaults.delete(n.href);
    for (const c of [...this.nodes.values()]) if (c.parent === n.href) this.drop(c);
  }

  private async readNode(n: Node): Promise<{ children: Child[]; rateS: number | undefined }> {
    switch (n.kind) {
      case 'dcap': {
        const d = parseResource('DeviceCapability', await this.getText(n.href));
        this.dcap = d;
        const rate = d.pollRate ?? DEFAULT_POLL_RATE_S;
        const children: Child[] = [];
        if (d.TimeLink) children.push({ href: d.TimeLink.href, kind: 'time', inheritedRateS: DEFAULT_POLL_RATE_S });
        if (d.EndDeviceListLink) children.push({ href: d.EndDeviceListLink.href, kind: 'edevList', inheritedRateS: rate });
        if (d.MirrorUsagePointListLink && this.o.telemetry) children.push({ href: d.MirrorUsagePointListLink.href, kind: 'mupList', inheritedRateS: rate });
        return { children, rateS: d.pollRate };
      }
      case 'time': {
        const sent = this.o.clock();
        const t = parseResource('Time', await this.getText(n.href));
        const received = this.o.clock();
        this.time = t;
        this.offsetMs = t.currentTime * 1000 - (sent + received) / 2;
        return { children: [], rateS: t.pollRate };
      }
      case 'edevList': {
        let list = await this.getList('EndDeviceList', n.href, (l) => l.EndDevice);
        const isMine = (e: EndDevice): boolean => (e.lFDI !== undefined && e.lFDI === this.identity.lfdi) || e.sFDI === this.identity.sfdi;
        if (!list.items.some(isMine) && this.o.register) {
          await this.registerSelf(n.href, this.o.register.deviceCategory);
          list = await this.getList('EndDeviceList', n.href, (l) => l.EndDevice);
        }
        const mine = list.items.find(isMine);
        this.endDevice = mine ?? null;
        if (!mine) throw new Error(`${n.href}: no EndDevice with LFDI ${this.identity.lfdi} or SFDI ${this.identity.sfdi} among ${list.items.length}`);
        const cp = mine.ConnectionPointLink?.href;
        if (cp !== undefined && this.o.connectionPointId !== undefined && !this.reported.has(cp)) {
          const body = `<ConnectionPoint xmlns="${CSIPAUS_NS}"><connectionPointId>${this.o.connectionPointId}</connectionPointId></ConnectionPoint>`;
          const res = await this.http('PUT', cp, body);
          if (res.status < 200 || res.status >= 300) throw new CsipHttpError(cp, res.status, 'PUT');
          this.reported.add(cp);
        }
        const rate = list.pollRate ?? n.inheritedRateS;
        const ders: Child[] = this.o.ders && mine.DERListLink ? [{ href: mine.DERListLink.href, kind: 'derList', inheritedRateS: rate }] : [];
        if (mine.RegistrationLink)
          return { children: [{ href: mine.RegistrationLink.href, kind: 'registration', inheritedRateS: rate }, ...ders], rateS: list.pollRate };
        return { children: [...this.fsaChild(mine, rate), ...ders], rateS: list.pollRate };
      }
      case 'registration': {
        const r = parseResource('Registration', await this.getText(n.href));
        this.registration = r;
        if (this.o.pin !== undefined && r.pIN !== this.o.pin) throw new Error(`${n.href}: registration PIN ${r.pIN} is not the configured ${this.o.pin}`);
        return { children: this.endDevice ? this.fsaChild(this.endDevice, r.pollRate ?? n.inheritedRateS) : [], rateS: r.pollRate };
      }
      case 'fsaList': {
        const list = await this.getList('FunctionSetAssignmentsList', n.href, (l) => l.FunctionSetAssignments);
        this.fsaLists.set(n.href, list.items);
        const rate = list.pollRate ?? n.inheritedRateS;
        return {
          children: list.items.flatMap((f) =>
            f.DERProgramListLink ? [{ href: f.DERProgramListLink.href, kind: 'derpList' as const, inheritedRateS: rate }] : [],
          ),
          rateS: list.pollRate,
        };
      }
      case 'derpList': {
        const list = await this.getList('DERProgramList', n.href, (l) => l.DERProgram);
        this.programLists.set(n.href, list.items);
        const rate = list.pollRate ?? n.inheritedRateS;
        const children = list.items.flatMap((p): Child[] => [
          ...(p.DERControlListLink ? [{ href: p.DERControlListLink.href, kind: 'dercList' as const, inheritedRateS: rate }] : []),
          ...(p.DefaultDERControlLink ? [{ href: p.DefaultDERControlLink.href, kind: 'dderc' as const, inheritedRateS: rate }] : []),
        ]);
        return { children, rateS: list.pollRate };
      }
      case 'dercList': {
        const list = await this.getList('DERControlList', n.href, (l) => l.DERControl);
        this.controlLists.set(n.href, list.items);
        return { children: [], rateS: list.pollRate };
      }
      case 'dderc': {
        const d = parseResource('DefaultDERControl', await this.getText(n.href));
        this.noteSubscribable(n.href, d.subscribable);
        this.defaults.set(n.href, d);
        return { children: [], rateS: undefined };
      }
      case 'mupList': {
        // Read again at the fastest postRate of our mirrors, so a changed postRate is taken within one post.
        return { children: [], rateS: await this.syncMirrors(n.href) };
      }
      case 'derList': {
        const list = await this.getList('DERList', n.href, (l) => l.DER);
        await this.derReporter?.onList(list.items, this.o.clock(), this.now() / 1000);
        return { children: [], rateS: list.pollRate };
      }
    }
  }

  /** The mirrors this device keeps: the site, then each DER. */
  private mirrorPoints(): { mrid: string; role: number; what: string; point: MeasuredPoint }[] {
    const t = this.o.telemetry?.();
    if (!t) return [];
    const lfdi = this.identity.lfdi;
    return [
      { mrid: mirrorMRID(lfdi, 'site'), role: ROLE_SITE, what: 'site', point: t.site },
      ...t.ders.map((point, i) => ({ mrid: mirrorMRID(lfdi, `der${i + 1}`), role: ROLE_DER, what: `DER ${i + 1}`, point })),
    ];
  }

  /** Reads the MirrorUsagePointList, creates this device's mirrors missing from it and takes their postRate. */
  private async syncMirrors(listHref: string): Promise<number | undefined> {
    const pick = (l: Resource<'MirrorUsagePointList'>): Resource<'MirrorUsagePointList'>['MirrorUsagePoint'] => l.MirrorUsagePoint;
    let list = await this.getList('MirrorUsagePointList', listHref, pick);
    const nowS = this.now() / 1000;
    const created = new Set<string>();
    for (const m of this.mirrorPoints()) {
      if (list.items.some((i) => i.mRID === m.mrid)) continue;
      const res = await this.http('POST', listHref, mirrorUsagePointXml(m.mrid, m.role, this.identity.lfdi, m.what, m.point, nowS));
      if (res.status < 200 || res.status >= 300) throw new CsipHttpError(listHref, res.status, 'POST');
      created.add(m.mrid);
    }
    if (created.size > 0) list = await this.getList('MirrorUsagePointList', listHref, pick);
    for (const i of list.items) {
      if (!i.href || !this.mirrorPoints().some((m) => m.mrid === i.mRID)) continue;
      const postRateS = i.postRate ?? list.pollRate ?? DEFAULT_POLL_RATE_S;
      const had = this.mirrors.get(i.mRID);
      // A new mirror was posted with its first readings; one found already there (a restart) is sampled at
      // once; a changed postRate counts from the last post.
      const lastPostMs = had ? had.nextPostMs - had.postRateS * 1000 : created.has(i.mRID) ? this.o.clock() : this.o.clock() - postRateS * 1000;
      this.mirrors.set(i.mRID, { href: i.href, postRateS, nextPostMs: lastPostMs + postRateS * 1000 });
    }
    const rates = [...this.mirrors.values()].map((m) => m.postRateS);
    return rates.length > 0 ? Math.min(...rates) : undefined;
  }

  /**
   * Takes the readings of each mirror whose postRate has elapsed into the queue (reachable or not),
   * then posts the queue oldest first with the times the readings were taken. A network failure or a
   * 5xx stops the drain until `retryMs` (or the post rate if shorter); a 4xx refuses that sample for
   * good, so it is dropped instead of blocking the rest.
   */
  private async postReadings(): Promise<void> {
    const q = this.telemetryQueue;
    if (this.mirrors.size === 0 && q.size === 0) return;
    const nowMs = this.o.clock();
    const atS = this.now() / 1000;
    // The site's values are read only when a mirror is due (the tick runs every second).
    const due = [...this.mirrors.values()].some((m) => m.nextPostMs <= nowMs);
    const points = due || q.size > 0 ? this.mirrorPoints() : [];
    for (const m of points) {
      const target = this.mirrors.get(m.mrid);
      if (!target || target.nextPostMs > nowMs) continue;
      target.nextPostMs = nowMs + target.postRateS * 1000;
      if (hasReadings(m.point)) q.push({ mrid: m.mrid, atS, point: m.point });
    }
    // Committed after the drain: what the server accepted at once is never written to disk.
    if (this.drainAtMs > nowMs) {
      q.commit();
      return;
    }
    const current = new Set(points.map((p) => p.mrid));
    try {
      for (const s of q.peek(DRAIN_PER_TICK)) {
        const target = this.mirrors.get(s.mrid);
        if (!target) {
          // A DER no longer on the site: its readings have nowhere to go. Else wait for the list to be read.
          if (!current.has(s.mrid)) {
            q.ack(s.id);
            continue;
          }
          return;
        }
        let res: { status: number };
        try {
          res = await this.http('POST', target.href, meterReadingListXml(s.mrid, s.point, s.atS));
        } catch (e) {
          this.fail(target.href, e);
          this.drainAtMs = this.o.clock() + Math.min(this.retryMs, target.postRateS * 1000);
          return;
        }
        if (res.status >= 500) {
          this.noteProblem(target.href, `POST ${target.href}: HTTP ${res.status}`);
          this.drainAtMs = this.o.clock() + Math.min(this.retryMs, target.postRateS * 1000);
          return;
        }
        if (res.status < 200 || res.status >= 300)
          this.noteProblem(target.href, `POST ${target.href}: HTTP ${res.status} (the readings taken at ${Math.floor(s.atS)} s dropped)`);
        else this.problemLog.clear(target.href);
        q.ack(s.id);
      }
    } finally {
      q.commit();
    }
  }

  /** POSTs this device's EndDevice to the list (IEEE 2030.5 §6.5 in-band registration). */
  private async registerSelf(listHref: string, deviceCategory: number): Promise<void> {
    const body =
      `<EndDevice xmlns="urn:ieee:std:2030.5:ns"><deviceCategory>${(deviceCategory >>> 0).toString(16).toUpperCase().padStart(8, '0')}</deviceCategory>` +
      `<lFDI>${this.identity.lfdi}</lFDI><sFDI>${this.identity.sfdi}</sFDI><changedTime>${Math.floor(this.now() / 1000)}</changedTime></EndDevice>`;
    const res = await this.http('POST', listHref, body);
    if (res.status < 200 || res.status >= 300) throw new CsipHttpError(listHref, res.status, 'POST');
  }

  /** Settings and status of DERs whose reported values changed since the last PUT (a failure is tried again later). */
  private async reportChanges(): Promise<void> {
    try {
      await this.derReporter?.onTick(this.o.clock(), this.now() / 1000);
    } catch (e) {
      // Kept against the DERList whose DERs are reported; its next good read (which PUTs every report) clears it.
      this.fail([...this.nodes.values()].find((n) => n.kind === 'derList')?.href ?? 'DER reports', e);
    }
  }

  private fsaChild(e: EndDevice, rateS: number): Child[] {
    return e.FunctionSetAssignmentsListLink ? [{ href: e.FunctionSetAssignmentsListLink.href, kind: 'fsaList', inheritedRateS: rateS }] : [];
  }

  /** Reads a whole list, page by page (s, l), until `all` items or an empty page. */
  private async getList<N extends 'EndDeviceList' | 'FunctionSetAssignmentsList' | 'DERProgramList' | 'DERControlList' | 'DERList' | 'MirrorUsagePointList', T>(
    name: N,
    href: string,
    pick: (list: Resource<N>) => readonly T[],
  ): Promise<{ items: T[]; pollRate: number | undefined }> {
    const items: T[] = [];
    let pollRate: number | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const sep = href.includes('?') ? '&' : '?';
      const list = pageOf(name, await this.getText(`${href}${sep}s=${items.length}&l=${this.pageSize}`), items.length);
      if (page === 0) {
        pollRate = list.pollRate;
        this.noteSubscribable(href, list.subscribable);
      }
      const got = pick(list);
      items.push(...got);
      if (got.length === 0 || items.length >= list.all) return { items, pollRate };
    }
    throw new Error(`${href}: more than ${MAX_PAGES} pages`);
  }

  private noteSubscribable(href: string, code: number | undefined): void {
    const n = this.nodes.get(href);
    if (n) this.subscribable.set(href, { kind: n.kind, code: code ?? 0 });
  }

  private async getText(href: string): Promise<string> {
    const q = href.indexOf('?');
    const path = q < 0 ? href : href.slice(0, q);
    const doc = this.notified.get(path);
    if (doc !== undefined && (q < 0 || new URLSearchParams(href.slice(q + 1)).get('s') === '0')) {
      this.notified.delete(path);
      return doc;
    }
    const res = await this.http('GET', href);
    if (res.status !== 200) throw new CsipHttpError(href, res.status);
    return res.body;
  }

  private http(method: Method, href: string, body?: string): Promise<{ status: number; body: string; location: string | undefined }> {
    const url = new URL(href, this.o.baseUrl);
    return new Promise((resolve, rejectWith) => {
      // Only a request that got no answer makes the server unreachable; a 404 or a bad document is an answer.
      const reject = (e: Error): void => {
        this.reachable = false;
        rejectWith(e);
      };
      const req = request(
        url,
        {
          method,
          agent: this.agent,
          headers: {
            accept: 'application/sep+xml',
            ...(body !== undefined ? { 'content-type': 'application/sep+xml', 'content-length': Buffer.byteLength(body) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_RESPONSE_BYTES) {
              res.destroy(new Error(`${method} ${href}: the server's answer is over ${MAX_RESPONSE_BYTES} bytes; refused (a 2030.5 list should be paged)`));
              return;
            }
            chunks.push(c);
          });
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            this.reachable = true;
            this.lastContactAt = this.o.clock();
            this.log.push({ method, href, status });
            if (this.log.length > REQUEST_LOG_SIZE) this.log.splice(0, this.log.length - REQUEST_LOG_SIZE);
            const location = res.headers.location;
            resolve({ status, body: Buffer.concat(chunks).toString('utf8'), location });
          });
          res.on('error', reject);
        },
      );
      req.setTimeout(this.o.timeoutMs ?? 10_000, () => req.destroy(new Error(`${method} ${href}: no answer within ${this.o.timeoutMs ?? 10_000} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}
