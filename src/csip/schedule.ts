import { createHash } from 'node:crypto';
import type { DefaultDERControl, DERControl, DERControlBase } from './resources.js';

/**
 * Event scheduling of the CSIP-AUS client, pure: from the programs, their DERControls and
 * DefaultDERControls as last read, and a time t (server time, seconds since 1970), what limit is in
 * force for each quantity and where it came from, and what state each event is in.
 *
 * Rules (IEEE 2030.5 §12.1.3, CSIP-AUS):
 * - An event is active on the half-open interval [start, end): two contiguous events leave no instant
 *   between them, so a boundary never falls back to the default for a moment (a spurious ramp,
 *   open-dynamic-export issue 75).
 * - randomizeStart moves the start, randomizeDuration lengthens or shortens the duration, each by a
 *   whole number of seconds drawn between 0 and the given value (either sign), seeded by the device's
 *   seed and the event's mRID: the same event always gets the same offsets on the same device, and
 *   different devices spread out.
 * - Within one program, of two overlapping events the one created later supersedes the other whole
 *   (ties: the higher mRID). A server that says Superseded (4) is believed.
 * - An event is superseded once a live event of a program with a lower primacy value has started that
 *   sets every quantity it sets and lasts until its end (it could never apply again; CSIP-AUS GEN-10,
 *   LOA-10). Covered only for a while, it applies again after the other ends.
 * - Across programs, each quantity is taken from the active event of the lowest primacy value, then the
 *   latest creationTime, then the highest mRID (a total order, so the result never depends on order).
 * - Cancelled (2) ends an event at once; Cancelled with Randomization (3) ends it at the status time
 *   plus the event's start offset (if it had started).
 * - With no active event setting a quantity, the DefaultDERControl of the lowest-primacy program that
 *   sets it applies, then the configured fallback. The programs passed are the last ones read, so while
 *   the server is unreachable the schedule goes on, then the defaults, as CSIP-AUS asks; before the
 *   first read there are none and the fallback applies.
 */

export const QUANTITIES = [
  'opModExpLimW',
  'opModGenLimW',
  'opModImpLimW',
  'opModLoadLimW',
  'opModMaxLimW',
  'opModStorageTargetW',
  'opModConnect',
  'opModEnergize',
] as const;
export type Quantity = (typeof QUANTITIES)[number];

/**
 * Watts for the four CSIP-AUS limits and the storage target (discharge positive, charge negative),
 * percent of rated power for opModMaxLimW, booleans for the two connection controls.
 */
export interface LimitValues {
  opModExpLimW?: number;
  opModGenLimW?: number;
  opModImpLimW?: number;
  opModLoadLimW?: number;
  opModMaxLimW?: number;
  opModStorageTargetW?: number;
  opModConnect?: boolean;
  opModEnergize?: boolean;
}

export type LimitSource =
  | { readonly kind: 'event'; readonly eventMRID: string; readonly programMRID: string; readonly primacy: number }
  | { readonly kind: 'default'; readonly defaultMRID: string; readonly programMRID: string; readonly primacy: number }
  | { readonly kind: 'fallback' };

export interface ActiveLimit {
  readonly value: number | boolean;
  readonly source: LimitSource;
}

export type ActiveLimits = { readonly [Q in Quantity]?: ActiveLimit };

export interface ProgramInput {
  readonly mRID: string;
  readonly primacy: number;
  readonly controls: readonly DERControl[];
  readonly defaultControl?: DefaultDERControl | undefined;
}

export interface ScheduleInput {
  readonly programs: readonly ProgramInput[];
  /** Seeds the randomization (the device's LFDI). */
  readonly seed: string;
  /** The site's configured limits when neither an event nor a default sets a quantity. */
  readonly fallback?: LimitValues;
}

export type EventState = 'scheduled' | 'active' | 'completed' | 'cancelled' | 'superseded' | 'invalid' | 'not-applicable';

export interface EventTimeline {
  readonly mRID: string;
  readonly programMRID: string;
  readonly primacy: number;
  readonly creationTime: number;
  readonly replyTo: string | undefined;
  /** Effective start and end (randomization applied), seconds. */
  readonly start: number;
  readonly end: number;
  readonly state: EventState;
  /** For 'superseded': the event that superseded it, when the client found it; for 'invalid': why. */
  readonly detail?: string;
  readonly values: LimitValues;
}

/** The values a DERControlBase sets, in the units of LimitValues. */
export function limitValues(base: DERControlBase): LimitValues {
  const v: LimitValues = {};
  if (base.opModExpLimW) v.opModExpLimW = base.opModExpLimW.watts;
  if (base.opModGenLimW) v.opModGenLimW = base.opModGenLimW.watts;
  if (base.opModImpLimW) v.opModImpLimW = base.opModImpLimW.watts;
  if (base.opModLoadLimW) v.opModLoadLimW = base.opModLoadLimW.watts;
  if (base.opModMaxLimW !== undefined) v.opModMaxLimW = base.opModMaxLimW / 100;
  if (base.opModStorageTargetW) v.opModStorageTargetW = base.opModStorageTargetW.watts;
  if (base.opModConnect !== undefined) v.opModConnect = base.opModConnect;
  if (base.opModEnergize !== undefined) v.opModEnergize = base.opModEnergize;
  return v;
}

/** A whole number of seconds between 0 and `range` (either sign), fixed by seed, event and purpose. */
export function randomOffset(seed: string, mRID: string, purpose: 'start' | 'duration', range: number | undefined): number {
  if (!range) return 0;
  const h = createHash('sha256').update(`${seed}/${mRID}/${purpose}`).digest();
  const fraction = h.readUInt32BE(0) / 2 ** 32;
  return Math.sign(range) * Math.floor(fraction * (Math.abs(range) + 1));
}

function invalidReason(c: DERControl, v: LimitValues): string | undefined {
  for (const q of ['opModExpLimW', 'opModGenLimW', 'opModImpLimW', 'opModLoadLimW'] as const) {
    const w = v[q];
    if (w !== undefined && w < 0) return `${q} is negative (${w} W)`;
  }
  if (v.opModMaxLimW !== undefined && v.opModMaxLimW > 100) return `opModMaxLimW above 100 % (${v.opModMaxLimW} %)`;
  if (c.interval.duration === 0) return 'interval duration is 0';
  return undefined;
}

/** Newer first: creationTime, then mRID. */
const newer = (a: DERControl, b: DERControl): boolean => a.creationTime > b.creationTime || (a.creationTime === b.creationTime && a.mRID > b.mRID);

const live = (o: DERControl): boolean => o.EventStatus.currentStatus !== 2 && o.EventStatus.currentStatus !== 3 && o.EventStatus.currentStatus !== 4;
const overlaps = (a: DERControl, b: DERControl): boolean =>
  a.interval.start < b.interval.start + b.interval.duration && b.interval.start < a.interval.start + a.interval.duration;

/** Every event's effective interval and state at time t (seconds). */
export function eventTimelines(input: ScheduleInput, t: number): EventTimeline[] {
  const out: EventTimeline[] = [];
  for (const p of input.programs) {
    for (const c of p.controls) {
      const rs = randomOffset(input.seed, c.mRID, 'start', c.randomizeStart);
      const rd = randomOffset(input.seed, c.mRID, 'duration', c.randomizeDuration);
      const start = c.interval.start + rs;
      let end = start + Math.max(0, c.interval.duration + rd);
      const values = limitValues(c.DERControlBase);
      const base = { mRID: c.mRID, programMRID: p.mRID, primacy: p.primacy, creationTime: c.creationTime, replyTo: c.replyTo, start, values };
      const status = c.EventStatus.currentStatus;
      const invalid = invalidReason(c, values);
      if (invalid !== undefined) {
        out.push({ ...base, end, state: 'invalid', detail: invalid });
        continue;
      }
      if (Object.keys(values).length === 0) {
        out.push({ ...base, end, state: 'not-applicable', detail: 'sets none of the quantities this client applies' });
        continue;
      }
      if (status === 4) {
        out.push({ ...base, end, state: 'superseded', detail: 'the server marked it superseded' });
        continue;
      }
      const supersededBy = p.controls.find(
        (o) =>
          o !== c &&
          o.EventStatus.currentStatus !== 2 &&
          o.EventStatus.currentStatus !== 3 &&
          o.EventStatus.currentStatus !== 4 &&
          newer(o, c) &&
          o.interval.start < c.interval.start + c.interval.duration &&
          c.interval.start < o.interval.start + o.interval.duration,
      );
      if (supersededBy) {
        out.push({ ...base, end, state: 'superseded', detail: `superseded by ${supersededBy.mRID}` });
        continue;
      }
      const overriddenBy = input.programs
        .filter((o) => o.primacy < p.primacy)
        .flatMap((o) => o.controls)
        .find(
          (o) =>
            live(o) &&
            overlaps(o, c) &&
            t >= o.interval.start &&
            o.interval.start + o.interval.duration >= c.interval.start + c.interval.duration &&
            Object.keys(values).every((q) => limitValues(o.DERControlBase)[q as Quantity] !== undefined),
        );
      if (overriddenBy) {
        out.push({ ...base, end, state: 'superseded', detail: `superseded by ${overriddenBy.mRID} of a program with lower primacy` });
        continue;
      }
      if (status === 2) {
        out.push({ ...base, end, state: 'cancelled' });
        continue;
      }
      if (status === 3) {
        // Ends at the cancellation time plus this device's start offset, if it is running by then.
        end = Math.min(end, Math.max(start, c.EventStatus.dateTime + Math.abs(rs)));
        out.push({ ...base, end, state: t >= start && t < end ? 'active' : 'cancelled' });
        continue;
      }
      out.push({ ...base, end, state: t < start ? 'scheduled' : t < end ? 'active' : 'completed' });
    }
  }
  return out;
}

/** Lower primacy, then newer creationTime, then higher mRID wins. */
function precedes(a: EventTimeline, b: EventTimeline): boolean {
  if (a.primacy !== b.primacy) return a.primacy < b.primacy;
  if (a.creationTime !== b.creationTime) return a.creationTime > b.creationTime;
  return a.mRID > b.mRID;
}

export interface ScheduleResult {
  readonly limits: ActiveLimits;
  readonly events: readonly EventTimeline[];
}

/** The limit in force for each quantity at time t (seconds), with its source, and every event's state. */
export function activeLimits(input: ScheduleInput, t: number): ScheduleResult {
  const events = eventTimelines(input, t);
  const active = events.filter((e) => e.state === 'active');
  const limits: { [Q in Quantity]?: ActiveLimit } = {};
  const programs = [...input.programs].sort((a, b) => a.primacy - b.primacy || (a.mRID < b.mRID ? -1 : a.mRID > b.mRID ? 1 : 0));
  for (const q of QUANTITIES) {
    let best: EventTimeline | undefined;
    for (const e of active) if (e.values[q] !== undefined && (!best || precedes(e, best))) best = e;
    const fromEvent = best?.values[q];
    if (best && fromEvent !== undefined) {
      limits[q] = { value: fromEvent, source: { kind: 'event', eventMRID: best.mRID, programMRID: best.programMRID, primacy: best.primacy } };
      continue;
    }
    const p = programs.find((pr) => pr.defaultControl && limitValues(pr.defaultControl.DERControlBase)[q] !== undefined);
    const d = p?.defaultControl;
    const fromDefault = d ? limitValues(d.DERControlBase)[q] : undefined;
    if (p && d && fromDefault !== undefined) {
      limits[q] = { value: fromDefault, source: { kind: 'default', defaultMRID: d.mRID, programMRID: p.mRID, primacy: p.primacy } };
      continue;
    }
    const fb = input.fallback?.[q];
    if (fb !== undefined) limits[q] = { value: fb, source: { kind: 'fallback' } };
  }
  return { limits, events };
}

/** Response.status codes (IEEE 2030.5 Table 27). */
export const ResponseStatus = {
  EventReceived: 1,
  Started: 2,
  Completed: 3,
  OptOut: 4,
  OptIn: 5,
  Cancelled: 6,
  Superseded: 7,
  NotApplicable: 252,
  Invalid: 253,
  Expired: 254,
} as const;

export interface ResponseDue {
  readonly mRID: string;
  readonly replyTo: string;
  readonly status: number;
}

/** What the client remembers of an event for its responses. */
export interface ResponseMemory {
  /** Server time (s) the client first saw the event. */
  readonly firstSeen: number;
  /** Statuses already posted successfully. */
  readonly sent: ReadonlySet<number>;
}

/**
 * The responses due for events at their current states, in the order to post: EventReceived first,
 * then at most one state response (Started, Completed, Cancelled, Superseded, Invalid, NotApplicable,
 * Expired for an event first seen after its end). Events without replyTo get none. A status is due
 * until it is recorded as sent.
 */
export function responsesDue(events: readonly EventTimeline[], memory: ReadonlyMap<string, ResponseMemory>): ResponseDue[] {
  const out: ResponseDue[] = [];
  for (const e of events) {
    if (e.replyTo === undefined) continue;
    const m = memory.get(e.mRID);
    const sent = m?.sent ?? new Set<number>();
    const push = (status: number): void => {
      if (!sent.has(status)) out.push({ mRID: e.mRID, replyTo: e.replyTo ?? '', status });
    };
    push(ResponseStatus.EventReceived);
    switch (e.state) {
      case 'scheduled':
        break;
      case 'active':
        push(ResponseStatus.Started);
        break;
      case 'completed':
        if (sent.has(ResponseStatus.Started) || (m !== undefined && m.firstSeen < e.end)) push(ResponseStatus.Completed);
        else push(ResponseStatus.Expired);
        break;
      case 'cancelled':
        push(ResponseStatus.Cancelled);
        break;
      case 'superseded':
        push(ResponseStatus.Superseded);
        break;
      case 'invalid':
        push(ResponseStatus.Invalid);
        break;
      case 'not-applicable':
        push(ResponseStatus.NotApplicable);
        break;
    }
  }
  return out;
}
