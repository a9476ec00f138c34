import { z } from '#zod';
import { InventoryError } from './error.js';
import { recordReplacement, type ReplacementDeps } from './meter-replacement.js';
import { meterIdOf } from '../../store/registry.js';
import { replacementsOf } from '../../store/replacements.js';
import { HttpError, type RouteRegistry } from '../../api/route.js';
import { meterParams } from '../../site/routes.js';

const STATUS = { invalid: 400, 'not-found': 404, conflict: 409 } as const;

// The registry names the field (`oldFinalImportKWh: ...`): messages here say only what is allowed.
const reading = () =>
  z.number({ error: 'must be a counter reading in kWh from 0 to 99999999' }).min(0, 'must not be negative').max(99_999_999, 'must be at most 99999999 kWh');
const REASON = 'a reason of 3 to 500 characters is needed';

/** Meter replacements: an inventory event with both meters' readings, never inferred from the counters. */
export function registerReplacementRoutes(routes: RouteRegistry, d: ReplacementDeps): void {
  routes.add({
    method: 'POST',
    url: '/api/meters/:key/replacements',
    summary: "Record a meter replacement with the old meter's final and the new meter's first readings; intervals across it count both",
    role: 'installer',
    params: meterParams,
    body: z
      .object({
        at: z.coerce.date({ error: 'must be the time of the swap (ISO 8601 or unix ms)' }),
        oldSerial: z.string().trim().min(1).max(64).optional(),
        newSerial: z.string().trim().min(1).max(64).optional(),
        oldFinalImportKWh: reading(),
        newFirstImportKWh: reading(),
        oldFinalExportKWh: reading().optional(),
        newFirstExportKWh: reading().optional(),
        why: z.string({ error: REASON }).trim().min(3, REASON).max(500, 'must be at most 500 characters long'),
      })
      .strict(),
    handler: ({ params, body, user }) => {
      if (!user) throw new HttpError(401, 'log in first');
      try {
        const { at, ...rest } = body;
        return recordReplacement(d, { ...rest, meter: params.key, atMs: at.getTime() }, user.username);
      } catch (e) {
        if (e instanceof InventoryError) throw new HttpError(STATUS[e.kind], e.message);
        throw e;
      }
    },
  });
  routes.add({
    method: 'GET',
    url: '/api/meters/:key/replacements',
    summary: 'The recorded replacements of a meter, oldest first',
    role: 'viewer',
    params: meterParams,
    handler: ({ params }) => {
      const id = meterIdOf(d.db, params.key);
      return { replacements: id === undefined ? [] : replacementsOf(d.db, id) };
    },
  });
}
