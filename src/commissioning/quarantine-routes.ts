import { z } from '#zod';
import type { StoreDb } from '../store/database.js';
import { listQuarantined, QuarantineError, resolutionOf, resolveInterval } from '../store/quarantine.js';
import type { Clock } from '../util/clock.js';
import { HttpError, type RouteRegistry } from '../api/route.js';
import { meterParams } from '../site/routes.js';

const STATUS = { invalid: 400, 'not-found': 404, conflict: 409 } as const;

function guarded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof QuarantineError) throw new HttpError(STATUS[e.kind], e.message);
    throw e;
  }
}

// The registry names the field (`importKWh: ...`): messages here say only what is allowed.
const kWh = () => z.number({ error: 'must be a number of kWh from 0 to 1000000' }).min(0, 'must not be negative').max(1_000_000, 'must be at most 1000000 kWh');
const REASON = 'a reason of 3 to 500 characters is needed';

/** Quarantined intervals (impossible counter readings, never billed) and their resolution by a person. */
export function registerQuarantineRoutes(routes: RouteRegistry, d: { db: StoreDb; clock: Clock }): void {
  routes.add({
    method: 'GET',
    url: '/api/quarantine',
    summary: 'Quarantined 15-minute intervals waiting for a person, oldest first (optionally of one meter)',
    role: 'viewer',
    query: z.object({ meter: meterParams.shape.key.optional() }).strict(),
    handler: ({ query }) => ({ intervals: listQuarantined(d.db, query.meter) }),
  });
  routes.add({
    method: 'POST',
    url: '/api/meters/:key/quarantine/:start/resolve',
    summary: 'Resolve a quarantined interval: accept it as read, set corrected energies, or zero; it becomes billable once',
    role: 'operator',
    params: meterParams.extend({ start: z.coerce.number().int().min(0, 'must be the interval start in unix milliseconds') }).strict(),
    body: z
      .object({
        action: z.enum(['accept', 'set', 'zero'], { error: 'must be accept, set or zero' }),
        importKWh: kWh().optional(),
        exportKWh: kWh().optional(),
        why: z.string({ error: REASON }).trim().min(3, REASON).max(500, 'must be at most 500 characters long'),
      })
      .strict(),
    handler: ({ params, body, user }) => {
      if (!user) throw new HttpError(401, 'log in first');
      return guarded(() => resolveInterval(d.db, params.key, params.start, { ...body, by: user.username, atMs: d.clock() }));
    },
  });
  routes.add({
    method: 'GET',
    url: '/api/meters/:key/quarantine/:start',
    summary: 'How a quarantined interval was resolved: by whom, when, why and with what energies',
    role: 'viewer',
    params: meterParams.extend({ start: z.coerce.number().int().min(0) }).strict(),
    handler: ({ params }) => {
      const r = resolutionOf(d.db, params.key, params.start);
      if (!r) throw new HttpError(404, `start: no resolution of ${params.key} at ${params.start} is recorded`);
      return r;
    },
  });
}
