import { z } from 'zod';
import { InventoryError } from '../commissioning/inventory-error.js';
import { recordReplacement, type ReplacementDeps } from '../commissioning/meter-replacement.js';
import { meterIdOf } from '../store/registry.js';
import { replacementsOf } from '../store/replacements.js';
import { HttpError, type RouteRegistry } from './route.js';
import { meterParams } from './site-routes.js';

const STATUS = { invalid: 400, 'not-found': 404, conflict: 409 } as const;

const reading = (field: string) =>
  z.number({ error: `${field}: a counter reading in kWh from 0 to 99999999 is allowed` }).min(0, `${field}: must not be negative`).max(99_999_999, `${field}: at most 99999999 kWh is allowed`);

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
        at: z.coerce.date({ error: 'at: the time of the swap (ISO 8601 or unix ms) is needed' }),
        oldSerial: z.string().trim().min(1).max(64).optional(),
        newSerial: z.string().trim().min(1).max(64).optional(),
        oldFinalImportKWh: reading('oldFinalImportKWh'),
        newFirstImportKWh: reading('newFirstImportKWh'),
        oldFinalExportKWh: reading('oldFinalExportKWh').optional(),
        newFirstExportKWh: reading('newFirstExportKWh').optional(),
        why: z.string({ error: 'why: a reason of 3 to 500 characters is needed' }).trim().min(3, 'why: a reason of 3 to 500 characters is needed').max(500, 'why: at most 500 characters are allowed'),
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
