import { z } from '#zod';
import type { Check } from './procedure.js';
import { resolveParams, type Resolver } from './expressions.js';
import type { UtilityModel } from './utility-model.js';

/**
 * The checks of the CACTUS procedures (SCHEMA-README.md "Checks"), evaluated on the utility model and
 * the run's steps. Each returns pass or the reason it failed; a check this file does not implement
 * is never evaluated (the runner reports the procedure as unsupported before it starts).
 */

export type CheckResult = { readonly pass: true } | { readonly pass: false; readonly reason: string };

export interface CheckContext {
  readonly model: UtilityModel;
  readonly resolver: Resolver;
  /** Steps that were active at some time and are no longer; steps active now. */
  readonly completedSteps: ReadonlySet<string>;
  readonly activeSteps: ReadonlySet<string>;
  readonly allSteps: readonly string[];
}

const ok: CheckResult = { pass: true };
const fail = (reason: string): CheckResult => ({ pass: false, reason });

const optBool = z.boolean().optional();
const optInt = z.number().int().optional();
const optHex = z
  .union([z.string(), z.number()])
  .optional()
  .transform((v) => (v === undefined ? undefined : parseInt(String(v), 16)));

const ContentsParams = z.record(z.string(), z.union([z.boolean(), z.number(), z.string()]));

/** DERSettings / DERCapability / DERStatus contents: `X: true` set, `X_set`/`X_unset` bit masks, `X: n` equal. */
function contents(what: string, flat: Readonly<Record<string, number>> | undefined, params: Record<string, unknown>): CheckResult {
  if (flat === undefined) return fail(`the client has not sent a ${what}`);
  const p = ContentsParams.parse(params);
  for (const [k, v] of Object.entries(p)) {
    const bits = /^(.*)_(set|unset|anyset)$/.exec(k);
    const bit = /^(.*)_bit(\d)$/.exec(k);
    if (bits) {
      const field = bits[1] ?? '';
      const mask = optHex.parse(v) ?? 0;
      const have = flat[field];
      if (have === undefined) return fail(`${what}.${field} is missing (${k}: ${String(v)})`);
      if (bits[2] === 'set' && (have & mask) !== mask) return fail(`${what}.${field} is ${have.toString(16)}, bits ${mask.toString(16)} should be set`);
      if (bits[2] === 'unset' && (have & mask) !== 0) return fail(`${what}.${field} is ${have.toString(16)}, bits ${mask.toString(16)} should be clear`);
      if (bits[2] === 'anyset' && (have & mask) === 0) return fail(`${what}.${field} is ${have.toString(16)}, one of bits ${mask.toString(16)} should be set`);
    } else if (bit) {
      const have = flat[bit[1] ?? ''];
      const on = have !== undefined && ((have >> Number(bit[2])) & 1) === 1;
      if (on !== v) return fail(`${what}.${bit[1] ?? ''} bit ${bit[2] ?? ''} is ${on ? 'set' : 'clear'}, expected ${v ? 'set' : 'clear'}`);
    } else if (typeof v === 'boolean') {
      // `true` asks that the element is present; an expression that came out false (`$(this <= rtgMaxW)`) fails.
      if (flat[k] === undefined) return fail(`${what}.${k} is missing`);
      if (!v) return fail(`${what}.${k} = ${flat[k]} does not meet the procedure's condition`);
    } else if (typeof v === 'number') {
      if (flat[k] !== v) return fail(`${what}.${k} is ${flat[k] ?? 'missing'}, expected ${v}`);
    }
  }
  return ok;
}

const ResponseParams = z.object({ latest: optBool, status: optInt, all: optBool, subject_tag: z.string().optional(), exists: optBool });

function responseContents(ctx: CheckContext, params: Record<string, unknown>): CheckResult {
  const p = ResponseParams.parse(params);
  const { model } = ctx;
  const tagged = p.subject_tag === undefined ? undefined : model.controls.find((c) => c.tag === p.subject_tag);
  if (p.subject_tag !== undefined && !tagged) return fail(`no DERControl has the tag ${p.subject_tag}`);
  let rs = model.responses;
  if (p.latest) rs = rs.slice(-1);
  if (tagged) rs = rs.filter((r) => r.subject.toUpperCase() === tagged.mrid);
  if (p.status !== undefined) rs = rs.filter((r) => r.status === p.status);
  const exists = p.exists ?? true;
  const what = `a Response${p.latest ? ' (the latest)' : ''}${p.status !== undefined ? ` with status ${p.status}` : ''}${tagged ? ` for ${p.subject_tag ?? ''}` : ''}`;
  if (p.all) {
    const targets = tagged ? [tagged] : model.controls;
    const missing = targets.filter(
      (c) => !model.responses.some((r) => r.subject.toUpperCase() === c.mrid && (p.status === undefined || r.status === p.status)),
    );
    if (exists && missing.length > 0) return fail(`no Response with status ${p.status ?? 'any'} for ${missing.map((c) => c.tag ?? c.mrid).join(', ')}`);
    return ok;
  }
  if (exists && rs.length === 0) {
    const last = model.responses.at(-1);
    return fail(`expected ${what}; last received: ${last ? `status ${last.status} for ${last.subject}` : 'none'}`);
  }
  if (!exists && rs.length > 0) return fail(`expected no ${what}, received ${rs.length}`);
  return ok;
}

const RESOURCE_PATHS: Readonly<Record<string, RegExp>> = {
  DeviceCapability: /^\/dcap$/,
  Time: /^\/tm$/,
  EndDeviceList: /^\/edev$/,
  EndDevice: /^\/edev\/\d+$/,
  Registration: /^\/edev\/\d+\/rg$/,
  ConnectionPoint: /^\/edev\/\d+\/cp$/,
  FunctionSetAssignmentsList: /^\/edev\/\d+\/fsa$/,
  DERProgramList: /^\/edev\/\d+\/fsa\/\d+\/derp$/,
  DERControlList: /^\/edev\/\d+\/derp\/\d+\/derc$/,
  DefaultDERControl: /^\/edev\/\d+\/derp\/\d+\/dderc$/,
  DERList: /^\/edev\/\d+\/der$/,
  DERCapability: /^\/edev\/\d+\/der\/\d+\/dercap$/,
  DERSettings: /^\/edev\/\d+\/der\/\d+\/ders$/,
  DERStatus: /^\/edev\/\d+\/der\/\d+\/derg$/,
  MirrorUsagePointList: /^\/mup$/,
  MirrorUsagePoint: /^\/mup\/\d+$/,
};

const ResourceParams = z.object({ resources: z.array(z.string()), minimum_count: optInt, maximum_count: optInt });

function resourceRequests(ctx: CheckContext, params: Record<string, unknown>): CheckResult {
  const p = ResourceParams.parse(params);
  const unknown = p.resources.filter((r) => RESOURCE_PATHS[r] === undefined);
  if (unknown.length > 0) return fail(`resource-requests: the interpreter does not know where ${unknown.join(', ')} live`);
  const n = ctx.model.served.filter((s) => p.resources.some((r) => RESOURCE_PATHS[r]?.test(s.path))).length;
  if (p.minimum_count !== undefined && n < p.minimum_count) return fail(`${n} requests to ${p.resources.join(', ')}, expected at least ${p.minimum_count}`);
  if (p.maximum_count !== undefined && n > p.maximum_count) return fail(`${n} requests to ${p.resources.join(', ')}, expected at most ${p.maximum_count}`);
  return ok;
}

const PollParams = z.object({ endpoints: z.array(z.string()), poll_interval_seconds: z.number().int().min(1), request_type_str: z.string() });

/**
 * Every concrete path matching each endpoint was requested at the interval: a gap above 1.5 intervals is
 * a missed poll, at most one per 5 intervals; at most 4 requests in any 3 intervals (over-polling).
 */
function pollsOnTime(ctx: CheckContext, params: Record<string, unknown>): CheckResult {
  const p = PollParams.parse(params);
  const iMs = p.poll_interval_seconds * 1000;
  for (const endpoint of p.endpoints) {
    const re = new RegExp(
      `^${endpoint
        .split('/')
        .map((c) => (c === '*' ? '[^/]+' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('/')}$`,
    );
    const byPath = new Map<string, number[]>();
    for (const r of ctx.model.served)
      if (r.method === p.request_type_str.toUpperCase() && re.test(r.path)) byPath.set(r.path, [...(byPath.get(r.path) ?? []), r.atMs]);
    if (byPath.size === 0) return fail(`no ${p.request_type_str} of ${endpoint}`);
    for (const [path, times] of byPath) {
      const misses: number[] = [];
      for (let i = 1; i < times.length; i++) {
        const gap = (times[i] ?? 0) - (times[i - 1] ?? 0);
        if (gap > 1.5 * iMs) misses.push(times[i - 1] ?? 0);
        if (gap > 2.5 * iMs)
          return fail(`${path}: ${Math.round(gap / 1000)} s between two ${p.request_type_str}s, the interval is ${p.poll_interval_seconds} s`);
      }
      for (let i = 1; i < misses.length; i++)
        if ((misses[i] ?? 0) - (misses[i - 1] ?? 0) < 5 * iMs) return fail(`${path}: two missed polls within ${5 * p.poll_interval_seconds} s`);
      for (let i = 0; i < times.length; i++) {
        const inWindow = times.filter((t) => t >= (times[i] ?? 0) && t < (times[i] ?? 0) + 3 * iMs).length;
        if (inWindow > 4) return fail(`${path}: ${inWindow} ${p.request_type_str}s within ${3 * p.poll_interval_seconds} s (over-polling)`);
      }
    }
  }
  return ok;
}

const ReadingParams = z.object({ minimum_count: optInt, minimum_level: z.number().optional(), maximum_level: z.number().optional(), window_seconds: optInt });

/** Which readings a readings check looks at: site or DER mirrors (roleFlags bit 1 or 3), by unit. */
const READING_KINDS: Readonly<Record<string, { readonly uom: number; readonly where: 'site' | 'der' | 'any' }>> = {
  'readings-site-active-power': { uom: 38, where: 'site' },
  'readings-site-reactive-power': { uom: 63, where: 'site' },
  'readings-voltage': { uom: 29, where: 'any' },
  'readings-der-active-power': { uom: 38, where: 'der' },
  'readings-der-reactive-power': { uom: 63, where: 'der' },
  'readings-der-stored-energy': { uom: 72, where: 'der' },
};

/** Readings of one kind: at least `minimum_count` (default 1), all within the levels, in the last `window_seconds`. */
function readings(ctx: CheckContext, type: string, params: Record<string, unknown>): CheckResult {
  const k = READING_KINDS[type];
  if (!k) return fail(`${type}: unknown reading kind`);
  const p = ReadingParams.parse(params);
  const since = p.window_seconds === undefined ? -Infinity : ctx.model.clock() - p.window_seconds * 1000;
  const rs = ctx.model.readings.filter(
    (r) => r.uom === k.uom && r.atMs >= since && (k.where === 'any' || (k.where === 'site' ? (r.roleFlags & 0x02) !== 0 : (r.roleFlags & 0x08) !== 0)),
  );
  if (ctx.model.mupPosts.length === 0) return fail(`${type}: the client posted no MirrorUsagePoint`);
  const min = p.minimum_count ?? 1;
  if (rs.length < min) return fail(`${type}: ${rs.length} readings, expected at least ${min}`);
  const low = rs.find((r) => p.minimum_level !== undefined && r.value < p.minimum_level);
  if (low) return fail(`${type}: a reading of ${low.value} is below ${p.minimum_level ?? ''}`);
  const high = rs.find((r) => p.maximum_level !== undefined && r.value > p.maximum_level);
  if (high) return fail(`${type}: a reading of ${high.value} is above ${p.maximum_level ?? ''}`);
  return ok;
}

/** The checks implemented here; the others make a procedure unsupported. */
export const SUPPORTED_CHECKS: ReadonlySet<string> = new Set([
  'all-steps-complete',
  'end-device-contents',
  'end-device-count',
  'der-settings-contents',
  'der-capability-contents',
  'der-status-contents',
  'response-contents',
  'resource-requests',
  'readings-voltage',
  'readings-site-active-power',
  'readings-site-reactive-power',
  'readings-der-active-power',
  'readings-der-reactive-power',
  'readings-der-stored-energy',
  'subscription-contents',
  'all-notifications-transmitted',
  'all-polls-at-correct-time',
]);

export function evaluateCheck(check: Check, ctx: CheckContext): CheckResult | 'unsupported' {
  let params: Record<string, unknown>;
  try {
    params = resolveParams(check.parameters, ctx.resolver);
  } catch (e) {
    return fail(`${check.type}: ${e instanceof Error ? e.message : String(e)}`);
  }
  switch (check.type) {
    case 'all-steps-complete': {
      const ignored = new Set(z.array(z.string()).optional().parse(params['ignored_steps']) ?? []);
      const open = ctx.allSteps.filter((s) => !ignored.has(s) && !ctx.completedSteps.has(s));
      return open.length === 0 ? ok : fail(`steps not complete: ${open.map((s) => (ctx.activeSteps.has(s) ? `${s} (waiting)` : s)).join(', ')}`);
    }
    case 'end-device-contents': {
      const row = ctx.model.endDeviceRow;
      if (!row) return fail('end-device-contents: no EndDevice is registered (the client did not POST one to /edev)');
      if (params['has_connection_point_id'] === true && !ctx.model.connectionPointId())
        return fail('end-device-contents: the client has not PUT a ConnectionPoint with a connectionPointId');
      const mask = optHex.parse(params['deviceCategory_anyset']);
      if (mask !== undefined && ((row.deviceCategory ?? 0) & mask) === 0)
        return fail(`end-device-contents: deviceCategory ${row.deviceCategory?.toString(16) ?? 'missing'} has none of the bits ${mask.toString(16)}`);
      if (params['check_lfdi'] === true && (row.lfdi !== ctx.model.device.lfdi || row.sfdi !== ctx.model.device.sfdi))
        return fail(
          `end-device-contents: LFDI ${row.lfdi} / SFDI ${row.sfdi} are not those of the client certificate (${ctx.model.device.lfdi} / ${ctx.model.device.sfdi})`,
        );
      return ok;
    }
    case 'end-device-count': {
      const p = z.object({ minimum_count: optInt, maximum_count: optInt }).parse(params);
      const n = ctx.model.endDeviceRow ? 1 : 0;
      if ((p.minimum_count ?? 0) > n || (p.maximum_count ?? n) < n)
        return fail(`${n} EndDevice registered, expected ${p.minimum_count ?? 0}..${p.maximum_count ?? '∞'}`);
      return ok;
    }
    case 'der-settings-contents':
      return contents('DERSettings', ctx.model.reports.settings, params);
    case 'der-capability-contents':
      return contents('DERCapability', ctx.model.reports.capability, params);
    case 'der-status-contents':
      return contents('DERStatus', ctx.model.reports.status, params);
    case 'response-contents':
      return responseContents(ctx, params);
    case 'resource-requests':
      return resourceRequests(ctx, params);
    case 'all-polls-at-correct-time':
      return pollsOnTime(ctx, params);
    case 'all-notifications-transmitted': {
      // As CACTUS: none sent is a failure (no live subscription), and every one must have had a 2xx answer.
      const logs = ctx.model.notifications;
      if (logs.length === 0) return fail('all-notifications-transmitted: no notification was sent (the client holds no subscription to a changed resource)');
      const bad = logs.find((l) => l.status < 200 || l.status >= 300);
      if (bad)
        return fail(
          `all-notifications-transmitted: the notification of ${bad.resource} was answered ${bad.status === 0 ? `with no HTTP status (${bad.error ?? 'no answer'})` : `HTTP ${bad.status}`}`,
        );
      if (ctx.model.pendingNotifications > 0) return fail(`all-notifications-transmitted: ${ctx.model.pendingNotifications} notifications were never sent`);
      return ok;
    }
    case 'subscription-contents': {
      const r = z.object({ subscribed_resource: z.string() }).parse(params).subscribed_resource;
      const live = ctx.model.subscriptions.filter((x) => !x.deleted);
      return live.some((x) => x.resource === r)
        ? ok
        : fail(`subscription-contents: no Subscription to ${r}; the client holds ${live.length === 0 ? 'none' : live.map((x) => x.resource).join(', ')}`);
    }
    case 'readings-voltage':
    case 'readings-site-active-power':
    case 'readings-site-reactive-power':
    case 'readings-der-active-power':
    case 'readings-der-reactive-power':
    case 'readings-der-stored-energy':
      return readings(ctx, check.type, params);
    default:
      return 'unsupported';
  }
}
