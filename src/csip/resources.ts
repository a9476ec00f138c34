import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { z } from '#zod';

/**
 * The IEEE 2030.5 resources the CSIP-AUS client reads, parsed from XML into typed, zod-validated
 * objects (docs/csip.md#resources). Nothing untyped leaves this file: `parseResource`
 * returns the schema's output type or throws a `CsipParseError` that names the element and what was
 * found there.
 *
 * Namespaces: the 2030.5 namespace is `urn:ieee:std:2030.5:ns`, the CSIP-AUS extensions are in
 * `https://csipaus.org/ns`. Prefixes are stripped by the parser (element names of the two namespaces
 * do not collide), but the root element must be declared in the 2030.5 namespace.
 */

export const SEP_NS = 'urn:ieee:std:2030.5:ns';
export const CSIPAUS_NS = 'https://csipaus.org/ns';

/** An error in a resource: `path` is the element path (`DERControlList/DERControl[1]/interval/start`). */
export class CsipParseError extends Error {
  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super(`${path}: ${detail}`);
    this.name = 'CsipParseError';
  }
}

const found = (v: unknown): string => {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return v === '' ? 'an empty element' : `"${v.length > 60 ? `${v.slice(0, 60)}…` : v}"`;
  if (Array.isArray(v)) return `${v.length} elements`;
  if (typeof v === 'object' && v !== null) return 'an element with children';
  return typeof v === 'number' || typeof v === 'boolean' ? String(v) : typeof v;
};

/** The text of a leaf element (the parser gives `{ '#text': … }` when it also has attributes). */
const text = (v: unknown): unknown => (typeof v === 'object' && v !== null && !Array.isArray(v) && '#text' in v ? (v as Record<string, unknown>)['#text'] : v);

function integer(what: string, min: number, max: number) {
  return z.unknown().transform((raw, ctx): number => {
    const v = text(raw);
    const n = typeof v === 'string' && /^[+-]?\d+$/.test(v.trim()) ? Number(v.trim()) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `expected ${what}, found ${found(v)}` });
      return z.NEVER;
    }
    return n;
  });
}

/** TimeType: seconds since 1970-01-01 UTC (Int64). */
const timeType = integer('a time (integer seconds since 1970)', -(2 ** 52), 2 ** 52);
const uint32 = (what: string) => integer(what, 0, 0xffffffff);
const uint8 = (what: string) => integer(what, 0, 255);
const int16 = (what: string) => integer(what, -32768, 32767);
const uint16 = (what: string) => integer(what, 0, 65535);

const bool = z.unknown().transform((raw, ctx): boolean => {
  const v = text(raw);
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  ctx.addIssue({ code: 'custom', message: `expected a boolean (true, false, 1 or 0), found ${found(v)}` });
  return z.NEVER;
});

function hex(bits: number) {
  return z.unknown().transform((raw, ctx): string => {
    const v = text(raw);
    if (typeof v === 'string' && /^[0-9a-fA-F]+$/.test(v) && v.length <= bits / 4) return v.toUpperCase();
    ctx.addIssue({ code: 'custom', message: `expected hex of at most ${bits} bits, found ${found(v)}` });
    return z.NEVER;
  });
}

const str = z.unknown().transform((raw, ctx): string => {
  const v = text(raw);
  if (typeof v === 'string') return v;
  ctx.addIssue({ code: 'custom', message: `expected text, found ${found(v)}` });
  return z.NEVER;
});

/** A child element that may appear once or many times, as an array. */
function many<T extends z.ZodType>(item: T) {
  return z.preprocess((v): unknown[] => (v === undefined ? [] : Array.isArray(v) ? (v as unknown[]) : [v]), z.array(item));
}

/** An element that must have children or attributes; an empty `<X/>` is read as having none. */
function element<S extends z.ZodRawShape>(shape: S) {
  return z.preprocess((v) => (v === '' ? {} : v), z.object(shape, { error: (iss) => `expected an element with children, found ${found(iss.input)}` }));
}

const pollRate = uint32('a poll rate in seconds').optional();

const link = element({ href: str });
const listLink = element({ href: str, all: uint32('a count (all)').optional() });

const listAttrs = {
  href: str.optional(),
  all: uint32('a count (all)'),
  results: uint32('a count (results)'),
  pollRate,
  subscribable: uint8('a subscribable code').optional(),
};

/** ActivePower: value × 10^multiplier W. Resolved to watts. */
const activePower = element({ multiplier: integer('a power-of-ten multiplier', -9, 9), value: int16('a power value (Int16)') }).transform((p) => ({
  ...p,
  watts: p.value * 10 ** p.multiplier,
}));

export const DERControlBaseSchema = element({
  opModConnect: bool.optional(),
  opModEnergize: bool.optional(),
  /** PerCent in hundredths of a percent of the DER's rated power. */
  opModMaxLimW: uint16('a percentage in hundredths (PerCent)').optional(),
  opModFixedW: int16('a percentage in hundredths (SignedPerCent)').optional(),
  opModTargetW: activePower.optional(),
  opModExpLimW: activePower.optional(),
  opModGenLimW: activePower.optional(),
  opModImpLimW: activePower.optional(),
  opModLoadLimW: activePower.optional(),
  /** CSIP-AUS v1.3 storage extension: the battery's active power, discharge positive, charge negative (W). */
  opModStorageTargetW: activePower.optional(),
  rampTms: uint16('a ramp time in 1/100 s').optional(),
});

const eventStatus = element({
  /** 0 Scheduled, 1 Active, 2 Cancelled, 3 Cancelled with Randomization, 4 Superseded. */
  currentStatus: integer('an event status (0 to 4)', 0, 4),
  dateTime: timeType,
  potentiallySuperseded: bool,
  potentiallySupersededTime: timeType.optional(),
  reason: str.optional(),
});

const dateTimeInterval = element({ duration: uint32('a duration in seconds'), start: timeType });

export const DERControlSchema = element({
  href: str.optional(),
  replyTo: str.optional(),
  responseRequired: hex(8).optional(),
  subscribable: uint8('a subscribable code').optional(),
  mRID: hex(128),
  description: str.optional(),
  version: uint16('a version').optional(),
  creationTime: timeType,
  EventStatus: eventStatus,
  interval: dateTimeInterval,
  randomizeDuration: int16('seconds (Int16)').optional(),
  randomizeStart: int16('seconds (Int16)').optional(),
  DERControlBase: DERControlBaseSchema,
  deviceCategory: hex(32).optional(),
});

export const DERControlListSchema = element({ ...listAttrs, DERControl: many(DERControlSchema) });

export const DefaultDERControlSchema = element({
  href: str.optional(),
  subscribable: uint8('a subscribable code').optional(),
  mRID: hex(128),
  description: str.optional(),
  version: uint16('a version').optional(),
  DERControlBase: DERControlBaseSchema,
  setESDelay: uint32('a delay in 1/100 s').optional(),
  setESHighFreq: uint16('a frequency').optional(),
  setESHighVolt: int16('a voltage').optional(),
  setESLowFreq: uint16('a frequency').optional(),
  setESLowVolt: int16('a voltage').optional(),
  setESRampTms: uint32('a ramp time in 1/100 s').optional(),
  setESRandomDelay: uint32('a delay in 1/100 s').optional(),
  /** Hundredths of a percent of rated power per second (27 = 0.27 %/s, AS/NZS 4777.2). */
  setGradW: uint16('a gradient in hundredths of a percent per second').optional(),
  setSoftGradW: uint16('a gradient in hundredths of a percent per second').optional(),
});

export const DERProgramSchema = element({
  href: str.optional(),
  mRID: hex(128),
  description: str.optional(),
  version: uint16('a version').optional(),
  ActiveDERControlListLink: listLink.optional(),
  DefaultDERControlLink: link.optional(),
  DERControlListLink: listLink.optional(),
  DERCurveListLink: listLink.optional(),
  /** Lower values take precedence. */
  primacy: uint8('a primacy (UInt8)'),
});

export const DERProgramListSchema = element({ ...listAttrs, DERProgram: many(DERProgramSchema) });

export const FunctionSetAssignmentsSchema = element({
  href: str.optional(),
  mRID: hex(128),
  description: str.optional(),
  version: uint16('a version').optional(),
  DERProgramListLink: listLink.optional(),
  TimeLink: link.optional(),
});

export const FunctionSetAssignmentsListSchema = element({ ...listAttrs, FunctionSetAssignments: many(FunctionSetAssignmentsSchema) });

export const EndDeviceSchema = element({
  href: str.optional(),
  subscribable: uint8('a subscribable code').optional(),
  ConfigurationLink: link.optional(),
  DERListLink: listLink.optional(),
  deviceCategory: hex(32).optional(),
  DeviceInformationLink: link.optional(),
  DeviceStatusLink: link.optional(),
  FileStatusLink: link.optional(),
  IPInterfaceListLink: listLink.optional(),
  lFDI: hex(160).optional(),
  LoadShedAvailabilityListLink: listLink.optional(),
  LogEventListLink: listLink.optional(),
  PowerStatusLink: link.optional(),
  sFDI: integer('an SFDI (decimal, at most 12 digits)', 0, 999_999_999_999),
  changedTime: timeType.optional(),
  enabled: bool.optional(),
  FunctionSetAssignmentsListLink: listLink.optional(),
  RegistrationLink: link.optional(),
  SubscriptionListLink: listLink.optional(),
  /** CSIP-AUS: the connection point (NMI) of the site. */
  ConnectionPointLink: link.optional(),
});

export const EndDeviceListSchema = element({ ...listAttrs, EndDevice: many(EndDeviceSchema) });

export const RegistrationSchema = element({
  href: str.optional(),
  pollRate,
  dateTimeRegistered: timeType,
  pIN: integer('a PIN (6 digits with check digit)', 0, 999_999),
});

export const TimeSchema = element({
  href: str.optional(),
  pollRate,
  currentTime: timeType,
  dstEndTime: timeType,
  dstOffset: integer('a DST offset in seconds', -86_400, 86_400),
  dstStartTime: timeType,
  localTime: timeType.optional(),
  quality: uint8('a time quality'),
  tzOffset: integer('a time-zone offset in seconds', -86_400, 86_400),
});

export const DeviceCapabilitySchema = element({
  href: str.optional(),
  pollRate,
  CustomerAccountListLink: listLink.optional(),
  DemandResponseProgramListLink: listLink.optional(),
  DERProgramListLink: listLink.optional(),
  FileListLink: listLink.optional(),
  MessagingProgramListLink: listLink.optional(),
  PrepaymentListLink: listLink.optional(),
  ResponseSetListLink: listLink.optional(),
  TariffProfileListLink: listLink.optional(),
  TimeLink: link.optional(),
  UsagePointListLink: listLink.optional(),
  EndDeviceListLink: listLink.optional(),
  MirrorUsagePointListLink: listLink.optional(),
  SelfDeviceLink: link.optional(),
});

/** A DER of an EndDevice (sep.xsd DER): where its capability, settings and status are reported (PUT). */
export const DERSchema = element({
  href: str.optional(),
  subscribable: uint8('a subscribable code').optional(),
  AssociatedDERProgramListLink: listLink.optional(),
  AssociatedUsagePointLink: link.optional(),
  CurrentDERProgramLink: link.optional(),
  DERAvailabilityLink: link.optional(),
  DERCapabilityLink: link.optional(),
  DERSettingsLink: link.optional(),
  DERStatusLink: link.optional(),
});

export const DERListSchema = element({ ...listAttrs, DER: many(DERSchema) });

/** A MirrorUsagePoint as the server lists it: where to post readings and how often. */
export const MirrorUsagePointSchema = element({
  href: str.optional(),
  mRID: hex(128),
  description: str.optional(),
  roleFlags: hex(16).optional(),
  postRate: uint32('a post rate in seconds').optional(),
});

export const MirrorUsagePointListSchema = element({ ...listAttrs, MirrorUsagePoint: many(MirrorUsagePointSchema) });

/** The resources by root element name. */
export const RESOURCE_SCHEMAS = {
  DeviceCapability: DeviceCapabilitySchema,
  EndDeviceList: EndDeviceListSchema,
  EndDevice: EndDeviceSchema,
  Registration: RegistrationSchema,
  FunctionSetAssignmentsList: FunctionSetAssignmentsListSchema,
  FunctionSetAssignments: FunctionSetAssignmentsSchema,
  DERProgramList: DERProgramListSchema,
  DERProgram: DERProgramSchema,
  DERControlList: DERControlListSchema,
  DERControl: DERControlSchema,
  DefaultDERControl: DefaultDERControlSchema,
  Time: TimeSchema,
  DERList: DERListSchema,
  DER: DERSchema,
  MirrorUsagePointList: MirrorUsagePointListSchema,
} as const;

export type ResourceName = keyof typeof RESOURCE_SCHEMAS;
export type Resource<N extends ResourceName> = z.output<(typeof RESOURCE_SCHEMAS)[N]>;

export type DeviceCapability = Resource<'DeviceCapability'>;
export type EndDeviceList = Resource<'EndDeviceList'>;
export type EndDevice = Resource<'EndDevice'>;
export type Registration = Resource<'Registration'>;
export type FunctionSetAssignmentsList = Resource<'FunctionSetAssignmentsList'>;
export type FunctionSetAssignments = Resource<'FunctionSetAssignments'>;
export type DERProgramList = Resource<'DERProgramList'>;
export type DERProgram = Resource<'DERProgram'>;
export type DERControlList = Resource<'DERControlList'>;
export type DERControl = Resource<'DERControl'>;
export type DefaultDERControl = Resource<'DefaultDERControl'>;
export type DERControlBase = z.output<typeof DERControlBaseSchema>;
export type Time = Resource<'Time'>;
export type DER = Resource<'DER'>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  removeNSPrefix: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

/** The CSIP-AUS namespaces a server may use (v1.3 servers also advertise the versioned one). */
export const CSIPAUS_NAMESPACES: ReadonlySet<string> = new Set([CSIPAUS_NS, `${CSIPAUS_NS}/v1.3`, `${CSIPAUS_NS}/v1.3-beta/storage`]);

/** Elements of csipaus-ext.xsd: they must be in a CSIP-AUS namespace (`http://csipaus.org/ns` is a known mistake). */
const CSIPAUS_ELEMENTS: ReadonlySet<string> = new Set([
  'opModExpLimW',
  'opModGenLimW',
  'opModImpLimW',
  'opModLoadLimW',
  'opModStorageTargetW',
  'ConnectionPointLink',
  'ConnectionPoint',
  'connectionPointId',
  'doeModesSupported',
  'doeModesEnabled',
  'vppModesSupported',
  'vppModesEnabled',
  'setMinWh',
]);

/**
 * Strips namespace prefixes from element names, resolving each prefix (and the default namespace)
 * through the xmlns declarations in scope, and checks that CSIP-AUS elements are in its namespace.
 */
function stripPrefixes(v: unknown, scope: ReadonlyMap<string, string>, path: string): unknown {
  if (Array.isArray(v)) return v.map((x, i) => stripPrefixes(x, scope, `${path}[${i + 1}]`));
  if (typeof v !== 'object' || v === null) return v;
  const o = v as Record<string, unknown>;
  const inner = new Map(scope);
  for (const [k, val] of Object.entries(o)) {
    if (typeof val !== 'string') continue;
    if (k === 'xmlns') inner.set('', val);
    else if (k.startsWith('xmlns:')) inner.set(k.slice('xmlns:'.length), val);
  }
  const out: Record<string, unknown> = {};
  for (const [k, child] of Object.entries(o)) {
    if (k === 'xmlns' || k.startsWith('xmlns:')) continue;
    const colon = k.indexOf(':');
    const local = colon < 0 ? k : k.slice(colon + 1);
    const here = `${path}/${local}`;
    if (CSIPAUS_ELEMENTS.has(local)) {
      const ns = inner.get(colon < 0 ? '' : k.slice(0, colon));
      if (ns === undefined || !CSIPAUS_NAMESPACES.has(ns)) throw new CsipParseError(here, `expected namespace ${CSIPAUS_NS}, found ${ns ?? 'none'}`);
    }
    out[local] = stripPrefixes(child, inner, here);
  }
  return out;
}

/** Parses raw XML to the root element's local name and its namespace-free tree. */
export function parseXmlTree(xml: string): { readonly root: string; readonly ns: string | undefined; readonly body: unknown } {
  // The validator is marked deprecated in favour of a separate package; it is still the one shipped and
  // maintained with this parser version, and the parser alone accepts unbalanced tags.
  // eslint-disable-next-line @typescript-eslint/no-deprecated
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new CsipParseError('(document)', `not well-formed XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
  let doc: unknown;
  try {
    doc = parser.parse(xml);
  } catch (e) {
    throw new CsipParseError('(document)', `not well-formed XML: ${e instanceof Error ? e.message : String(e)}`);
  }
  const roots = typeof doc === 'object' && doc !== null ? Object.entries(doc as Record<string, unknown>) : [];
  const first = roots[0];
  if (roots.length !== 1 || first === undefined) throw new CsipParseError('(document)', `expected one root element, found ${roots.length}`);
  const [qname, body] = first;
  const prefix = qname.includes(':') ? qname.slice(0, qname.indexOf(':')) : undefined;
  const attrs = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const nsAttr = attrs[prefix === undefined ? 'xmlns' : `xmlns:${prefix}`];
  const local = prefix === undefined ? qname : qname.slice(prefix.length + 1);
  return { root: local, ns: typeof nsAttr === 'string' ? nsAttr : undefined, body: stripPrefixes(body, new Map(), local) };
}

/**
 * Parses one resource document. The root element must be `name` in the 2030.5 namespace; every
 * field is validated and converted (times to seconds, ActivePower to watts as well as value and
 * multiplier, booleans, hex in upper case).
 */
export function parseResource<N extends ResourceName>(name: N, xml: string): Resource<N> {
  const { root, ns, body } = parseXmlTree(xml);
  if (root !== name) throw new CsipParseError(root, `expected a ${name} document, found root element ${root}`);
  if (ns !== SEP_NS) throw new CsipParseError(root, `expected namespace ${SEP_NS}, found ${ns === undefined ? 'none' : ns}`);
  const schema: z.ZodType<Resource<N>> = RESOURCE_SCHEMAS[name] as unknown as z.ZodType<Resource<N>>;
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = [root, ...(issue?.path ?? []).map((p) => (typeof p === 'number' ? `[${p + 1}]` : String(p)))].join('/').replace(/\/\[/g, '[');
  throw new CsipParseError(where, issue?.message ?? 'invalid');
}

/** The field types above, for the schemas of other files (pubsub.ts). */
export const fieldTypes = { element, str, uint8, uint32, many, timeType } as const;
