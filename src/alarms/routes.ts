import { z } from '#zod';
import { alarmView } from './alarm-view.js';
import type { Alarms } from './engine.js';
import { AlarmError } from './errors.js';
import { STATUS_CODES } from './status-codes.js';
import { HttpError, type RouteRegistry, type StreamSource } from '../api/route.js';
import { meterParams } from '../site/routes.js';

const idParams = z.object({ id: z.coerce.number().int().positive() }).strict();

const STATUS: Record<AlarmError['reason'], number> = { not_found: 404, invalid: 400, conflict: 409 };

/** Alarm errors become HTTP errors with their own message; anything else stays a 500. */
function httpErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof AlarmError) throw new HttpError(STATUS[e.reason], e.message);
    throw e;
  }
}

export function registerAlarmRoutes(routes: RouteRegistry, alarms: Pick<Alarms, 'store' | 'reportStatusCode'>): void {
  routes.add({
    method: 'GET',
    url: '/api/alarms',
    summary: 'Alarms, newest first: open (default), cleared or all, optionally of one meter and its channels',
    role: 'viewer',
    query: z
      .object({
        state: z.enum(['open', 'cleared', 'all']).default('open'),
        meter: meterParams.shape.key.optional(),
        limit: z.coerce.number().int().min(1).max(1000).default(200),
      })
      .strict(),
    handler: ({ query }) => ({ alarms: alarms.store.list(query).map(alarmView) }),
  });
  routes.add({
    method: 'GET',
    url: '/api/alarms/:id',
    summary: 'One alarm with its history (raised, updated, acknowledged, cleared)',
    role: 'viewer',
    params: idParams,
    handler: ({ params }) => {
      const a = alarms.store.get(params.id);
      if (!a) throw new HttpError(404, `no alarm ${params.id}`);
      return { ...alarmView(a), events: alarms.store.events(a.id) };
    },
  });
  routes.add({
    method: 'POST',
    url: '/api/alarms/:id/ack',
    summary: 'Acknowledge an alarm (once); records who and when, with an optional note',
    role: 'operator',
    params: idParams,
    body: z.object({ note: z.string().trim().min(1).max(500).optional() }).strict(),
    handler: ({ params, body, user }) => {
      if (!user) throw new HttpError(401, 'log in first');
      return alarmView(httpErrors(() => alarms.store.acknowledge(params.id, user.username, body.note)));
    },
  });
  routes.add({
    method: 'POST',
    url: '/api/meters/:key/status-code',
    summary: 'Report a meter operating status code (1000-1025); 1000 (relay closed) clears the status alarm',
    role: 'operator',
    params: meterParams,
    body: z.object({ code: z.number().int() }).strict(),
    handler: ({ params, body, user }) => {
      const r = httpErrors(() => alarms.reportStatusCode(params.key, body.code, undefined, user?.username));
      return { code: r.code, alarm: r.alarm ? alarmView(r.alarm) : null };
    },
  });
  routes.add({
    method: 'GET',
    url: '/api/alarm-codes',
    summary: 'The built-in meter operating status codes: Code 87 sub-code, meaning, field action, severity',
    role: 'viewer',
    handler: () => ({ codes: STATUS_CODES }),
  });
}

/** Alarm changes on /api/stream as `event: alarm`: the alarm as the API shows it, plus what just happened. */
export function alarmStreamSource(alarms: Pick<Alarms, 'subscribe'>): StreamSource {
  return {
    event: 'alarm',
    subscribe: (send) =>
      alarms.subscribe((c) => send({ ...alarmView(c.alarm), event: { kind: c.event.kind, at: c.event.at, by: c.event.by, message: c.event.message } })),
  };
}
