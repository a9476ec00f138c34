import { powerXml } from '../der-reports.js';
import type { DeviceIdentity } from '../lfdi.js';
import { parseSubscription } from '../pubsub.js';
import { CSIPAUS_NS, parseResource, parseXmlTree, SEP_NS } from '../resources.js';
import type { Answer, RecordedRequest } from '../test-server.js';
import type { Clock } from '../../util/clock.js';
import { flattenReport, parseMeterReadings, parseMirrorUsagePoint, parseResponse, type Flat, type ReceivedResponse } from './reports.js';

/**
 * The utility server of a conformance run, in the URL layout of the CACTUS harness's server (envoy),
 * which the procedures name: /dcap, /tm, /edev, /edev/1/fsa/1/derp, /edev/1/derp/1/derc and /dderc,
 * /edev/1/der/1/derg (settings), /ders (status), /dercap, Responses to /edev/1/rsps/site_control/rsp.
 * The procedures' actions change it; `route` answers the client's requests from it.
 */

export type Base = Record<string, number | boolean>;

export interface ProgramRow {
  readonly id: number;
  readonly primacy: number;
  readonly fsaId: number;
  readonly tag: string | undefined;
  dflt: { base: Base; setGradW: number | undefined } | null;
}

export interface ControlRow {
  readonly id: number;
  readonly mrid: string;
  readonly tag: string | undefined;
  readonly programId: number;
  readonly startS: number;
  readonly durationS: number;
  readonly creationS: number;
  cancelledAtS: number | null;
  readonly randomizeStart: number | undefined;
  readonly rampTms: number | undefined;
  readonly multiplier: number | undefined;
  readonly base: Base;
}

export const RATE_KEYS = [
  'dcap_poll_seconds',
  'edev_post_seconds',
  'edev_list_poll_seconds',
  'fsa_list_poll_seconds',
  'derp_list_poll_seconds',
  'der_list_poll_seconds',
  'mup_post_seconds',
  'tp_list_poll_seconds',
  'tti_list_poll_seconds',
] as const;
export type RateKey = (typeof RATE_KEYS)[number];

const NS = `xmlns="${SEP_NS}" xmlns:csipaus="${CSIPAUS_NS}"`;
/** The lists whose changes are notified (those envoy, CACTUS's server, takes subscriptions for), and DefaultDERControl. */
const SUBSCRIBABLE_LISTS: ReadonlySet<string> = new Set(['FunctionSetAssignmentsList', 'DERProgramList', 'DERControlList']);
const CSIP_POWER = new Set(['opModExpLimW', 'opModGenLimW', 'opModImpLimW', 'opModLoadLimW', 'opModStorageTargetW']);
const EDEV = 1;
const RSP_PATH = `/edev/${EDEV}/rsps/site_control/rsp`;

/** A Subscription the client created (POST /edev/1/sub), live until DELETEd. */
export interface SubscriptionRow {
  readonly id: number;
  readonly resource: string;
  readonly notificationURI: string;
  readonly limit: number;
  deleted: boolean;
}

/** A notification sent (the TransmitNotificationLog of the harness): the HTTP status the client answered, 0 for no answer. */
export interface NotificationLog {
  readonly subscriptionId: number;
  readonly resource: string;
  readonly status: number;
  readonly atMs: number;
  readonly error: string | undefined;
}

/** Sends one notification body to a notificationURI; resolves to the HTTP status (the runner gives it the server's TLS identity). */
export type Transmit = (uri: string, body: string) => Promise<number>;

const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';

/** Hooks around serving a request: events that trigger before the server answers and after. */
export interface RequestHooks {
  before(req: RecordedRequest): void;
  after(req: RecordedRequest): void;
}

export class UtilityModel {
  readonly rates: Record<RateKey, number> = Object.fromEntries(RATE_KEYS.map((k) => [k, 60])) as Record<RateKey, number>;
  commsEnabled = true;
  registrationLinks = true;
  pin = 111115;
  readonly fsaIds = new Set<number>([1]);
  readonly programs: ProgramRow[] = [];
  readonly controls: ControlRow[] = [];
  readonly responses: ReceivedResponse[] = [];
  readonly reports: { settings?: Flat; capability?: Flat; status?: Flat; connectionPoint?: string } = {};
  readonly mupPosts: string[] = [];
  /** MirrorUsagePoints created by the client (id = index + 1) and every reading received, with its time. */
  readonly mirrors: { readonly mrid: string; readonly roleFlags: number }[] = [];
  readonly readings: { readonly mupId: number; readonly roleFlags: number; readonly uom: number; readonly value: number; readonly atMs: number }[] = [];
  readonly subscriptions: SubscriptionRow[] = [];
  readonly notifications: NotificationLog[] = [];
  /** Notifications made due by changes, not yet sent. */
  private readonly outbox: { readonly sub: SubscriptionRow; readonly body: string }[] = [];
  /** Sends notifications; unset: none are sent (they stay in the outbox). */
  transmit: Transmit | null = null;
  /** The server's origin (https://host:port): subscriptionURI is absolute. */
  baseUrl = '';
  /** Requests answered (after comms were checked), with the clock's time. */
  readonly served: { readonly method: string; readonly path: string; readonly atMs: number; readonly status: number }[] = [];
  /** Errors in what the client sent (a PUT the server could not read), for the verdict. */
  readonly clientErrors: string[] = [];
  hooks: RequestHooks | null = null;
  /** The client's EndDevice: none until registered out of band (an action) or in band (POST /edev). */
  endDeviceRow: { readonly lfdi: string; readonly sfdi: number; readonly deviceCategory: number | undefined; readonly inBand: boolean } | null = null;

  constructor(
    readonly clock: Clock,
    readonly device: DeviceIdentity,
  ) {}

  nowS(): number {
    return Math.floor(this.clock() / 1000);
  }

  /** The connectionPointId of the ConnectionPoint the client PUT, if any. */
  connectionPointId(): string | undefined {
    const body = this.reports.connectionPoint;
    if (body === undefined) return undefined;
    const doc = parseXmlTree(body);
    const id = typeof doc.body === 'object' && doc.body !== null ? (doc.body as Record<string, unknown>)['connectionPointId'] : undefined;
    return doc.root === 'ConnectionPoint' && typeof id === 'string' && id !== '' ? id : undefined;
  }

  // ---- actions -------------------------------------------------------------------------------

  /** `register-end-device`: the EndDevice of the client's certificate, as the utility would enter it. */
  registerOutOfBand(): void {
    this.endDeviceRow ??= { lfdi: this.device.lfdi, sfdi: this.device.sfdi, deviceCategory: undefined, inBand: false };
  }

  createProgram(primacy: number, fsaId = 1, tag?: string): ProgramRow {
    const p: ProgramRow = { id: this.programs.length + 1, primacy, fsaId, tag, dflt: null };
    this.fsaIds.add(fsaId);
    this.programs.push(p);
    return p;
  }

  /** The program a control nests under: by tag, else by primacy, else the first of the FSA, else a new one. */
  programFor(o: { tag?: string | undefined; primacy?: number | undefined; fsaId?: number | undefined }): ProgramRow {
    if (o.tag !== undefined) {
      const p = this.programs.find((x) => x.tag === o.tag);
      if (!p) throw new Error(`der_program_tag ${o.tag}: no DERProgram has that tag`);
      return p;
    }
    const fsa = o.fsaId ?? 1;
    const found = this.programs.find((x) => x.fsaId === fsa && (o.primacy === undefined || x.primacy === o.primacy));
    return found ?? this.createProgram(o.primacy ?? 0, fsa);
  }

  createControl(c: Omit<ControlRow, 'id' | 'mrid' | 'creationS' | 'cancelledAtS'>): ControlRow {
    const id = this.controls.length + 1;
    const row: ControlRow = { ...c, id, mrid: `C0${String(id).padStart(30, '0')}`, creationS: this.nowS(), cancelledAtS: null };
    this.controls.push(row);
    return row;
  }

  cancelActive(): void {
    const now = this.nowS();
    for (const c of this.controls) if (c.cancelledAtS === null && now < c.startS + c.durationS) c.cancelledAtS = now;
  }

  // ---- subscriptions and notifications ---------------------------------------------------------

  /** The resources of the client's EndDevice a subscription may name (the others are refused with 400). */
  private subscribable(resource: string): boolean {
    const e = `/edev/${EDEV}`;
    return resource === `${e}/fsa` || new RegExp(`^${e}/fsa/\\d+/derp$`).test(resource) || new RegExp(`^${e}/derp/\\d+/(derc|dderc)$`).test(resource);
  }

  private subscribe(body: string): Answer {
    let s;
    try {
      s = parseSubscription(body);
    } catch (e) {
      this.clientErrors.push(`POST /edev/${EDEV}/sub: ${e instanceof Error ? e.message : String(e)}`);
      return { status: 400 };
    }
    // As envoy: the resource must belong to this EndDevice, XML encoding, an absolute https notificationURI.
    if (!this.subscribable(s.subscribedResource) || s.encoding !== 0 || !/^https:\/\/[^/\s]+\//.test(s.notificationURI)) return { status: 400 };
    const row: SubscriptionRow = {
      id: this.subscriptions.length + 1,
      resource: s.subscribedResource,
      notificationURI: s.notificationURI,
      limit: s.limit,
      deleted: false,
    };
    this.subscriptions.push(row);
    return { status: 201, location: `/edev/${EDEV}/sub/${row.id}` };
  }

  private subscriptionXml(x: SubscriptionRow, ns = ''): string {
    return (
      `<Subscription ${ns} href="/edev/${EDEV}/sub/${x.id}"><subscribedResource>${x.resource}</subscribedResource>` +
      `<encoding>0</encoding><level>+S1</level><limit>${x.limit}</limit><notificationURI>${x.notificationURI}</notificationURI></Subscription>`
    );
  }

  /** Each live subscription's resource as it is now (at most `limit` items of a list). */
  snapshot(): Map<number, string | undefined> {
    const out = new Map<number, string | undefined>();
    for (const x of this.subscriptions) if (!x.deleted) out.set(x.id, this.render(x.resource, { s: '0', l: String(x.limit) }));
    return out;
  }

  /** Queues a notification for each live subscription whose resource differs from `before` (an action changed it). */
  notifyChanges(before: ReadonlyMap<number, string | undefined>): void {
    for (const [id, now] of this.snapshot()) {
      const sub = this.subscriptions.find((x) => x.id === id);
      if (!sub || !before.has(id) || before.get(id) === now) continue;
      // A resource gone is notified with status 4 (subscription cancelled, resource deleted) and the subscription ends.
      const body = now === undefined ? this.notificationXml(sub, undefined, 4) : this.notificationXml(sub, now, 0);
      if (now === undefined) sub.deleted = true;
      this.outbox.push({ sub, body });
    }
  }

  private notificationXml(sub: SubscriptionRow, resource: string | undefined, status: number): string {
    let inner = '';
    if (resource !== undefined) {
      const m = /^<(\w+) ([^>]*?)(\/?)>/.exec(resource);
      const name = m?.[1] ?? '';
      const attrs = (m?.[2] ?? '').replace(`xmlns="${SEP_NS}" xmlns:csipaus="${CSIPAUS_NS}"`, '').trim();
      const rest = resource.slice(m?.[0].length ?? 0);
      inner = `<Resource xsi:type="${name}" ${attrs}>${rest.endsWith(`</${name}>`) ? rest.slice(0, -`</${name}>`.length) : rest}</Resource>`;
    }
    return (
      `<Notification ${NS} xmlns:xsi="${XSI_NS}"><subscribedResource>${sub.resource}</subscribedResource>${inner}` +
      `<status>${status}</status><subscriptionURI>${this.baseUrl}/edev/${EDEV}/sub/${sub.id}</subscriptionURI></Notification>`
    );
  }

  /** Sends the queued notifications, in order, and logs what the client answered. None while communications are down. */
  async flush(): Promise<void> {
    const send = this.transmit;
    if (!send || !this.commsEnabled) return;
    while (this.outbox.length > 0) {
      const n = this.outbox.shift();
      if (!n) break;
      let status = 0;
      let error: string | undefined;
      try {
        status = await send(n.sub.notificationURI, n.body);
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
      }
      this.notifications.push({ subscriptionId: n.sub.id, resource: n.sub.resource, status, atMs: this.clock(), error });
    }
  }

  /** Whether notifications wait to be sent. */
  get pendingNotifications(): number {
    return this.outbox.length;
  }

  // ---- serving -------------------------------------------------------------------------------

  route(req: RecordedRequest): Answer {
    if (!this.commsEnabled) return { status: 500 };
    this.hooks?.before(req);
    const a = this.answer(req);
    this.served.push({ method: req.method, path: req.path, atMs: this.clock(), status: a.status });
    this.hooks?.after(req);
    return a;
  }

  private answer(req: RecordedRequest): Answer {
    const p = req.path;
    if (req.method === 'GET') {
      const xml = this.render(p, req.query);
      return xml === undefined ? { status: 404 } : { status: 200, body: xml };
    }
    if (req.method === 'DELETE') {
      const id = new RegExp(`^/edev/${EDEV}/sub/(\\d+)$`).exec(p)?.[1];
      const sub = id === undefined ? undefined : this.subscriptions.find((x) => x.id === Number(id) && !x.deleted);
      if (!sub) return { status: id === undefined ? 405 : 404 };
      sub.deleted = true;
      return { status: 204 };
    }
    if (req.method === 'PUT') {
      const kind = /^\/edev\/1\/der\/1\/(ders|dercap|derg)$/.exec(p)?.[1];
      try {
        // envoy's layout, as the procedures name the steps: derg the DERSettings, ders the DERStatus.
        if (kind === 'derg') this.reports.settings = flattenReport('DERSettings', req.body);
        else if (kind === 'dercap') this.reports.capability = flattenReport('DERCapability', req.body);
        else if (kind === 'ders') this.reports.status = flattenReport('DERStatus', req.body);
        else if (p === `/edev/${EDEV}/cp`) {
          const root = parseXmlTree(req.body).root;
          if (root !== 'ConnectionPoint') throw new Error(`expected a ConnectionPoint, found ${root}`);
          this.reports.connectionPoint = req.body;
        } else return { status: 405 };
      } catch (e) {
        this.clientErrors.push(`PUT ${p}: ${e instanceof Error ? e.message : String(e)}`);
        return { status: 400 };
      }
      return { status: 204 };
    }
    if (req.method === 'POST') {
      if (p === RSP_PATH) {
        try {
          this.responses.push({ ...parseResponse(req.body), atMs: this.clock(), path: p });
        } catch (e) {
          this.clientErrors.push(`POST ${p}: ${e instanceof Error ? e.message : String(e)}`);
          return { status: 400 };
        }
        return { status: 201, location: `${p}/${this.responses.length}` };
      }
      if (p === '/mup' || /^\/mup\/\d+$/.test(p)) {
        this.mupPosts.push(req.body);
        try {
          return this.mirrorPost(p, req.body);
        } catch (e) {
          this.clientErrors.push(`POST ${p}: ${e instanceof Error ? e.message : String(e)}`);
          return { status: 400 };
        }
      }
      if (p === `/edev/${EDEV}/sub`) return this.subscribe(req.body);
      if (p === '/edev') {
        try {
          const e = parseResource('EndDevice', req.body);
          this.endDeviceRow = {
            lfdi: e.lFDI ?? '',
            sfdi: e.sFDI,
            deviceCategory: e.deviceCategory === undefined ? undefined : parseInt(e.deviceCategory, 16),
            inBand: true,
          };
        } catch (err) {
          this.clientErrors.push(`POST /edev: ${err instanceof Error ? err.message : String(err)}`);
          return { status: 400 };
        }
        return { status: 201, location: `/edev/${EDEV}` };
      }
      return { status: 405 };
    }
    return { status: 405 };
  }

  private mirrorPost(p: string, body: string): Answer {
    const addReadings = (mupId: number, rs: readonly { uom: number; value: number }[]): void => {
      const roleFlags = this.mirrors[mupId - 1]?.roleFlags ?? 0;
      for (const r of rs) this.readings.push({ mupId, roleFlags, uom: r.uom, value: r.value, atMs: this.clock() });
    };
    if (p === '/mup') {
      const m = parseMirrorUsagePoint(body);
      let id = this.mirrors.findIndex((x) => x.mrid === m.mrid) + 1;
      if (id === 0) {
        this.mirrors.push({ mrid: m.mrid, roleFlags: m.roleFlags });
        id = this.mirrors.length;
      }
      addReadings(id, m.readings);
      return { status: 201, location: `/mup/${id}` };
    }
    const id = Number(p.slice('/mup/'.length));
    if (!this.mirrors[id - 1]) return { status: 404 };
    addReadings(id, parseMeterReadings(body));
    return { status: 201, location: p };
  }

  private list(name: string, href: string, items: readonly string[], query: Readonly<Record<string, string>>, pollRate?: number): string {
    const subscribable = SUBSCRIBABLE_LISTS.has(name) ? ' subscribable="1"' : '';
    const s = Math.max(0, Number(query['s'] ?? '0') || 0);
    const l = Math.max(0, Math.min(255, Number(query['l'] ?? '1') || 0));
    const page = items.slice(s, s + l);
    const rate = pollRate === undefined ? '' : ` pollRate="${pollRate}"`;
    return `<${name} ${NS} href="${href}"${subscribable} all="${items.length}" results="${page.length}"${rate}>${page.join('')}</${name}>`;
  }

  private render(p: string, q: Readonly<Record<string, string>>): string | undefined {
    const now = this.nowS();
    const e = `/edev/${EDEV}`;
    if (this.endDeviceRow === null && (p === e || p.startsWith(`${e}/`))) return undefined;
    switch (p) {
      case '/dcap':
        return `<DeviceCapability ${NS} href="/dcap" pollRate="${this.rates.dcap_poll_seconds}"><TimeLink href="/tm"/><EndDeviceListLink href="/edev" all="1"/><MirrorUsagePointListLink href="/mup" all="${this.mirrors.length}"/></DeviceCapability>`;
      case '/tm':
        return `<Time ${NS} href="/tm" pollRate="900"><currentTime>${now}</currentTime><dstEndTime>0</dstEndTime><dstOffset>0</dstOffset><dstStartTime>0</dstStartTime><localTime>${now + 36000}</localTime><quality>7</quality><tzOffset>36000</tzOffset></Time>`;
      case '/edev':
        return this.list('EndDeviceList', '/edev', this.endDeviceRow ? [this.endDevice()] : [], q, this.rates.edev_list_poll_seconds);
      case e:
        return this.endDevice(NS);
      case `${e}/rg`:
        return `<Registration ${NS} href="${e}/rg" pollRate="${this.rates.edev_list_poll_seconds}"><dateTimeRegistered>${now}</dateTimeRegistered><pIN>${this.pin}</pIN></Registration>`;
      case `${e}/fsa`:
        return this.list(
          'FunctionSetAssignmentsList',
          p,
          [...this.fsaIds]
            .sort((a, b) => a - b)
            .map(
              (f) =>
                `<FunctionSetAssignments href="${e}/fsa/${f}"><mRID>F${String(f).padStart(31, '0')}</mRID><description>FSA ${f}</description><DERProgramListLink href="${e}/fsa/${f}/derp" all="${this.programs.filter((x) => x.fsaId === f).length}"/></FunctionSetAssignments>`,
            ),
          q,
          this.rates.fsa_list_poll_seconds,
        );
      case `${e}/der`:
        return this.list(
          'DERList',
          p,
          [
            `<DER href="${e}/der/1"><DERCapabilityLink href="${e}/der/1/dercap"/><DERSettingsLink href="${e}/der/1/derg"/><DERStatusLink href="${e}/der/1/ders"/></DER>`,
          ],
          q,
          this.rates.der_list_poll_seconds,
        );
      case '/mup':
        return this.list(
          'MirrorUsagePointList',
          '/mup',
          this.mirrors.map(
            (m, i) =>
              `<MirrorUsagePoint href="/mup/${i + 1}" postRate="${this.rates.mup_post_seconds}"><mRID>${m.mrid}</mRID><roleFlags>${m.roleFlags.toString(16).padStart(2, '0')}</roleFlags><serviceCategoryKind>0</serviceCategoryKind><status>1</status></MirrorUsagePoint>`,
          ),
          q,
          this.rates.dcap_poll_seconds,
        );
    }
    const fsa = new RegExp(`^${e}/fsa/(\\d+)/derp$`).exec(p);
    if (fsa) {
      const items = this.programs
        .filter((x) => x.fsaId === Number(fsa[1]))
        .sort((a, b) => a.primacy - b.primacy || a.id - b.id)
        .map((x) => this.programXml(x));
      return this.list('DERProgramList', p, items, q, this.rates.derp_list_poll_seconds);
    }
    const derp = new RegExp(`^${e}/derp/(\\d+)(/derc|/dderc|/actderc)?$`).exec(p);
    const prog = derp ? this.programs.find((x) => x.id === Number(derp[1])) : undefined;
    if (derp && prog) {
      if (derp[2] === undefined) return this.programXml(prog, NS);
      if (derp[2] === '/dderc') return this.defaultXml(prog);
      const mine = this.controls
        .filter((c) => c.programId === prog.id && (derp[2] === '/derc' || this.active(c)))
        .sort((a, b) => a.startS - b.startS || b.creationS - a.creationS);
      return this.list(
        'DERControlList',
        p,
        mine.map((c) => this.controlXml(c)),
        q,
        this.rates.derp_list_poll_seconds,
      );
    }
    if (p === `${e}/cp`) return this.reports.connectionPoint;
    if (p === `${e}/sub`)
      return this.list(
        'SubscriptionList',
        p,
        this.subscriptions.filter((x) => !x.deleted).map((x) => this.subscriptionXml(x)),
        q,
      );
    const sub = new RegExp(`^${e}/sub/(\\d+)$`).exec(p);
    const row = sub ? this.subscriptions.find((x) => x.id === Number(sub[1]) && !x.deleted) : undefined;
    if (row) return this.subscriptionXml(row, NS);
    return undefined;
  }

  private active(c: ControlRow): boolean {
    const now = this.nowS();
    return c.cancelledAtS === null && c.startS <= now && now < c.startS + c.durationS;
  }

  private endDevice(ns = ''): string {
    const e = `/edev/${EDEV}`;
    const row = this.endDeviceRow ?? { lfdi: this.device.lfdi, sfdi: this.device.sfdi, deviceCategory: undefined };
    const cat = row.deviceCategory === undefined ? '' : `<deviceCategory>${row.deviceCategory.toString(16).toUpperCase().padStart(8, '0')}</deviceCategory>`;
    return (
      `<EndDevice ${ns} href="${e}" subscribable="0" postRate="${this.rates.edev_post_seconds}"><DERListLink href="${e}/der" all="1"/>${cat}<lFDI>${row.lfdi}</lFDI><sFDI>${row.sfdi}</sFDI>` +
      `<changedTime>${this.nowS()}</changedTime><enabled>true</enabled><FunctionSetAssignmentsListLink href="${e}/fsa" all="${this.fsaIds.size}"/>` +
      (this.registrationLinks ? `<RegistrationLink href="${e}/rg"/>` : '') +
      `<SubscriptionListLink href="${e}/sub" all="${this.subscriptions.filter((x) => !x.deleted).length}"/>` +
      `<csipaus:ConnectionPointLink href="${e}/cp"/></EndDevice>`
    );
  }

  private programXml(x: ProgramRow, ns = ''): string {
    const h = `/edev/${EDEV}/derp/${x.id}`;
    const n = this.controls.filter((c) => c.programId === x.id).length;
    return `<DERProgram ${ns} href="${h}"><mRID>A${String(x.id).padStart(31, '0')}</mRID><description>program ${x.id}</description><ActiveDERControlListLink href="${h}/actderc" all="0"/><DefaultDERControlLink href="${h}/dderc"/><DERControlListLink href="${h}/derc" all="${n}"/><primacy>${x.primacy}</primacy></DERProgram>`;
  }

  private baseXml(base: Base, multiplier?: number): string {
    const order = ['opModConnect', 'opModEnergize', 'opModFixedW', 'opModExpLimW', 'opModGenLimW', 'opModImpLimW', 'opModLoadLimW', 'opModStorageTargetW'];
    return order
      .filter((k) => base[k] !== undefined)
      .map((k) => {
        const v = base[k];
        if (CSIP_POWER.has(k) && typeof v === 'number') {
          if (multiplier !== undefined)
            return `<csipaus:${k}><multiplier>${multiplier}</multiplier><value>${Math.round(v / 10 ** multiplier)}</value></csipaus:${k}>`;
          return powerXml(`csipaus:${k}`, v);
        }
        return `<${k}>${typeof v === 'boolean' ? String(v) : String(Math.round(Number(v)))}</${k}>`;
      })
      .join('');
  }

  private defaultXml(x: ProgramRow): string {
    const h = `/edev/${EDEV}/derp/${x.id}/dderc`;
    const d = x.dflt ?? { base: {}, setGradW: undefined };
    const grad = d.setGradW === undefined ? '' : `<setGradW>${d.setGradW}</setGradW>`;
    return `<DefaultDERControl ${NS} href="${h}" subscribable="1"><mRID>D${String(x.id).padStart(31, '0')}</mRID><description>default ${x.id}</description><DERControlBase>${this.baseXml(d.base)}</DERControlBase>${grad}</DefaultDERControl>`;
  }

  private controlXml(c: ControlRow): string {
    const status = c.cancelledAtS !== null ? 2 : this.active(c) ? 1 : 0;
    const statusTime = c.cancelledAtS ?? (status === 1 ? c.startS : c.creationS);
    const rnd = c.randomizeStart === undefined ? '' : `<randomizeStart>${c.randomizeStart}</randomizeStart>`;
    const ramp = c.rampTms === undefined ? '' : `<rampTms>${c.rampTms}</rampTms>`;
    return (
      `<DERControl href="/edev/${EDEV}/derp/${c.programId}/derc/${c.id}" replyTo="${RSP_PATH}" responseRequired="03" subscribable="0">` +
      `<mRID>${c.mrid}</mRID><description>${c.tag ?? `control ${c.id}`}</description><creationTime>${c.creationS}</creationTime>` +
      `<EventStatus><currentStatus>${status}</currentStatus><dateTime>${statusTime}</dateTime><potentiallySuperseded>false</potentiallySuperseded></EventStatus>` +
      `<interval><duration>${c.durationS}</duration><start>${c.startS}</start></interval>${rnd}<DERControlBase>${this.baseXml(c.base, c.multiplier)}${ramp}</DERControlBase></DERControl>`
    );
  }
}
