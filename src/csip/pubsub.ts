import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { z } from '#zod';
import { CsipParseError, fieldTypes, parseResource, parseXmlTree, RESOURCE_SCHEMAS, SEP_NS, type Resource, type ResourceName } from './resources.js';

/**
 * IEEE 2030.5 Subscription / Notification (the Pub-Sub function set, docs/csip.md#subscriptions): the
 * Subscription the client POSTs, the SubscriptionList it reads back, and the Notification the server
 * POSTs to the client, parsed into zod-validated types like every other resource.
 */

const { element, str, uint8, uint32, many } = fieldTypes;

/** sep.xsd Condition: only for Reading subscriptions (attributeIdentifier 0 = the reading's value). */
const condition = element({ attributeIdentifier: uint8('an attribute identifier'), lowerThreshold: str, upperThreshold: str });

export const SubscriptionSchema = element({
  href: str.optional(),
  subscribedResource: str,
  Condition: condition.optional(),
  /** 0 application/sep+xml, 1 application/sep-exi. */
  encoding: uint8('an encoding (0 XML, 1 EXI)'),
  level: str,
  limit: uint32('a limit (items per notification)'),
  notificationURI: str,
});

export const SubscriptionListSchema = element({
  href: str.optional(),
  all: uint32('a count (all)'),
  results: uint32('a count (results)'),
  pollRate: uint32('a poll rate in seconds').optional(),
  Subscription: many(SubscriptionSchema),
});

/** status: 0 default, 1 cancelled, 2 cancelled (moved), 3 cancelled (definition changed), 4 cancelled (deleted). */
const NotificationSchema = element({
  href: str.optional(),
  subscribedResource: str,
  newResourceURI: str.optional(),
  Resource: z.unknown().optional(),
  status: integerStatus(),
  subscriptionURI: str,
});

function integerStatus() {
  return z.unknown().transform((raw, ctx): number => {
    const v = typeof raw === 'object' && raw !== null && '#text' in raw ? (raw as Record<string, unknown>)['#text'] : raw;
    const n = typeof v === 'string' && /^\d{1,3}$/.test(v.trim()) ? Number(v) : NaN;
    if (!(n >= 0 && n <= 255)) {
      ctx.addIssue({ code: 'custom', message: `expected a notification status (0 to 255), found ${typeof v === 'string' ? `"${v}"` : 'nothing'}` });
      return z.NEVER;
    }
    return n;
  });
}

export type Subscription = z.output<typeof SubscriptionSchema>;
export type SubscriptionList = z.output<typeof SubscriptionListSchema>;

/** The resources a notification may carry, as the client reads them. */
export const NOTIFIED_TYPES = ['EndDeviceList', 'FunctionSetAssignmentsList', 'DERProgramList', 'DERControlList', 'DefaultDERControl'] as const;
export type NotifiedType = (typeof NOTIFIED_TYPES)[number];

export interface Notification {
  readonly subscribedResource: string;
  readonly subscriptionURI: string;
  readonly status: number;
  readonly newResourceURI: string | undefined;
  /** The notified resource as a standalone document (validated), when the notification carries one. */
  readonly resource: { readonly type: NotifiedType; readonly href: string | undefined; readonly xml: string } | undefined;
}

function validate<T>(schema: z.ZodType<T>, root: string, body: unknown): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = [root, ...(issue?.path ?? []).map((p) => (typeof p === 'number' ? `[${p + 1}]` : String(p)))].join('/').replace(/\/\[/g, '[');
  throw new CsipParseError(where, issue?.message ?? 'invalid');
}

function parseRoot<T>(name: string, schema: z.ZodType<T>, xml: string): T {
  const { root, ns, body } = parseXmlTree(xml);
  if (root !== name) throw new CsipParseError(root, `expected a ${name} document, found root element ${root}`);
  if (ns !== SEP_NS) throw new CsipParseError(root, `expected namespace ${SEP_NS}, found ${ns ?? 'none'}`);
  return validate(schema, root, body);
}

export function parseSubscription(xml: string): Subscription {
  return parseRoot('Subscription', SubscriptionSchema, xml);
}

export function parseSubscriptionList(xml: string): SubscriptionList {
  return parseRoot('SubscriptionList', SubscriptionListSchema, xml);
}

/** The Subscription document the client POSTs (element order of sep.xsd). */
export function subscriptionXml(s: { subscribedResource: string; limit: number; notificationURI: string }): string {
  const esc = (v: string): string => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return (
    `<Subscription xmlns="${SEP_NS}"><subscribedResource>${esc(s.subscribedResource)}</subscribedResource>` +
    `<encoding>0</encoding><level>+S1</level><limit>${s.limit}</limit><notificationURI>${esc(s.notificationURI)}</notificationURI></Subscription>`
  );
}

const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';
const ordered = {
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
} as const;
const orderedParser = new XMLParser({ ...ordered, processEntities: true, ignoreDeclaration: true, ignorePiTags: true });
// The builder shipped with the parser (as resources.ts uses its validator): marked deprecated in favour of a
// separate package the project does not depend on.
// eslint-disable-next-line @typescript-eslint/no-deprecated
const builder = new XMLBuilder({ ...ordered, processEntities: true, suppressEmptyNode: true });

type OrderedNode = Record<string, unknown>;
const local = (q: string): string => q.slice(q.indexOf(':') + 1);
const tagOf = (n: OrderedNode): string | undefined => Object.keys(n).find((k) => k !== ':@');
const attrsOf = (n: OrderedNode): Record<string, string> => (n[':@'] ?? {}) as Record<string, string>;

/**
 * The Notification's `Resource` (typed by xsi:type) as a standalone document: renamed to its type,
 * with the namespace declarations in scope, so that it is read by the same code as a polled one.
 */
function resourceDocument(xml: string): { type: string; xml: string } | undefined {
  const doc = orderedParser.parse(xml) as OrderedNode[];
  const root = doc.find((n) => tagOf(n) !== undefined);
  const rootTag = root ? tagOf(root) : undefined;
  if (!root || rootTag === undefined) return undefined;
  const children = root[rootTag] as OrderedNode[];
  const res = children.find((c) => {
    const t = tagOf(c);
    return t !== undefined && local(t) === 'Resource';
  });
  const resTag = res ? tagOf(res) : undefined;
  if (!res || resTag === undefined) return undefined;
  const nsDecls = Object.entries({ ...attrsOf(root), ...attrsOf(res) }).filter(([k]) => k === '@_xmlns' || k.startsWith('@_xmlns:'));
  const xsiPrefixes = new Set(nsDecls.filter(([, v]) => v === XSI_NS).map(([k]) => k.slice('@_xmlns:'.length)));
  let type: string | undefined;
  const attrs: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrsOf(res))) {
    const name = k.slice(2);
    if (name.includes(':') && local(name) === 'type' && xsiPrefixes.has(name.slice(0, name.indexOf(':')))) type = local(v);
    else attrs[k] = v;
  }
  if (type === undefined) throw new CsipParseError('Notification/Resource', 'expected an xsi:type naming the resource, found none');
  for (const [k, v] of nsDecls) if (!(k.slice(2).includes(':') && xsiPrefixes.has(k.slice('@_xmlns:'.length)))) attrs[k] ??= v;
  const prefix = resTag.includes(':') ? `${resTag.slice(0, resTag.indexOf(':'))}:` : '';
  const out: string = builder.build([{ [`${prefix}${type}`]: res[resTag], ':@': attrs }]);
  return { type, xml: out };
}

/**
 * Parses a Notification: its fields validated, and a carried Resource validated as the resource its
 * xsi:type names (one of NOTIFIED_TYPES), returned as a standalone document.
 */
export function parseNotification(xml: string): Notification {
  const n = parseRoot('Notification', NotificationSchema, xml);
  let resource: Notification['resource'];
  if (n.Resource !== undefined) {
    const r = resourceDocument(xml);
    if (!r) throw new CsipParseError('Notification/Resource', 'expected a resource element, found none');
    const type = NOTIFIED_TYPES.find((t) => t === r.type);
    if (type === undefined) throw new CsipParseError('Notification/Resource', `expected one of ${NOTIFIED_TYPES.join(', ')}, found xsi:type ${r.type}`);
    resource = { type, href: parseResource(type, r.xml).href, xml: r.xml };
  }
  return { subscribedResource: n.subscribedResource, subscriptionURI: n.subscriptionURI, status: n.status, newResourceURI: n.newResourceURI, resource };
}

/** The notified resource, typed (for callers that want the values rather than the document). */
export function notifiedResource<N extends NotifiedType & ResourceName>(type: N, xml: string): Resource<N> {
  return parseResource(type, xml);
}

/** Whether a resource name is one a notification may carry. */
export function isNotifiedType(name: string): name is NotifiedType {
  return (NOTIFIED_TYPES as readonly string[]).includes(name) && name in RESOURCE_SCHEMAS;
}
