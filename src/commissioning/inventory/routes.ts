import type { FastifyInstance } from 'fastify';
import { z } from '#zod';
import type { User } from '../../auth/user-store.js';
import { sameSite, type AddressPlan, type Phases } from '../address-plan.js';
import { inventoryCsv } from './csv.js';
import { importInventoryCsv, InventoryImportError } from './csv-import.js';
import { InventoryError } from './error.js';
import { STATUSES } from './status.js';
import type { InventoryStore } from './store.js';
import { ZonedClock } from '../../store/zoned-clock.js';
import { HttpError, type RouteRegistry } from '../../api/route.js';

export interface InventoryRouteDeps {
  readonly inventory: InventoryStore;
  /** Usually `inventory.addressPlan` (site config + inventory assignments). */
  readonly addressPlan: AddressPlan;
  /** The site's time zone: CSV dates are local days. */
  readonly timeZone?: string;
  /** The buses of this site's configuration: the address plan answers only for these. */
  readonly buses?: readonly string[];
}

/**
 * Lets POST /api/inventory/import take a text/csv body (text/plain and JSON {csv} work without it).
 * RouteRegistry does not expose the app, so the server calls this once.
 */
export function acceptCsvBodies(app: FastifyInstance): void {
  app.addContentTypeParser('text/csv', { parseAs: 'string' }, (_req, body, done) => done(null, body));
}

const STATUS_BY_KIND = { invalid: 400, 'not-found': 404, conflict: 409 } as const;

/** Inventory refusals become HTTP errors with the same message. */
function guarded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof InventoryError) throw new HttpError(STATUS_BY_KIND[e.kind], e.message);
    throw e;
  }
}

function who(user: User | null): string {
  if (!user) throw new HttpError(401, 'log in first');
  return user.username;
}

const text = z.string().max(2000);
const serialParams = z.object({ serial: z.string().regex(/^\d{12}$/, 'a meter serial is exactly 12 digits, as printed on the meter label') }).strict();
const listQuery = z
  .object({
    status: z.enum(STATUSES).optional(),
    overdue: z.enum(['true', 'false']).optional(),
    site: z.string().max(200).optional(),
    model: z.string().max(50).optional(),
    q: z.string().max(200).optional(),
  })
  .strict();
const address = z.number().int().min(1).max(247);
const createBody = z
  .object({
    serial: z.string(),
    model: z.string(),
    site: text.optional(),
    building: text.optional(),
    bus: z.string().max(64).optional(),
    address: address.optional(),
    notes: text.optional(),
    reason: text.optional(),
  })
  .strict();
const transitionBody = z.object({ to: z.enum(STATUSES), reason: text, address: address.optional(), bus: z.string().max(64).optional() }).strict();
const editBody = z
  .object({ notes: text.optional(), building: text.optional(), site: text.optional(), reason: text.optional() })
  .strict()
  .refine((b) => b.notes !== undefined || b.building !== undefined || b.site !== undefined, { error: 'give at least one of notes, building, site' });
const importBody = z.union([z.string(), z.object({ csv: z.string() }).strict()]);
const slotQuery = {
  bus: z.string().max(64).optional(),
  site: z.string().max(200).optional(),
  phases: z.enum(['1', '3']).transform((p): Phases => (p === '1' ? 1 : 3)),
};
const suggestQuery = z.object(slotQuery).strict();
const checkQuery = z.object({ ...slotQuery, address: z.coerce.number().int() }).strict();

const filterOf = (q: z.output<typeof listQuery>) => ({ ...q, overdue: q.overdue === undefined ? undefined : q.overdue === 'true' });

export function registerInventoryRoutes(routes: RouteRegistry, deps: InventoryRouteDeps): void {
  const { inventory, addressPlan } = deps;
  const timeZone = deps.timeZone ?? 'UTC';
  const slotOf = (q: { site?: string; bus?: string }) => inventory.slot(q.site ?? inventory.localSite, q.bus ?? null);
  /** An address on a bus this site does not have is no answer: refuse it, naming the buses it has. */
  const knownBus = (q: { site?: string; bus?: string }): void => {
    const buses = deps.buses;
    if (q.bus === undefined || buses === undefined || !sameSite(q.site ?? inventory.localSite, inventory.localSite) || buses.includes(q.bus)) return;
    throw new HttpError(
      404,
      `bus: no bus "${q.bus}" is configured at ${inventory.localSite || 'this site'}; allowed: ${buses.join(', ') || 'none (define one under buses: in the site file)'}`,
    );
  };

  routes.add({
    method: 'GET',
    url: '/api/inventory',
    summary: 'Inventory meters with overdue flags; filter by status, site, model, overdue, text',
    role: 'viewer',
    query: listQuery,
    handler: ({ query }) => ({ meters: guarded(() => inventory.list(filterOf(query))) }),
  });
  routes.add({
    method: 'GET',
    url: '/api/inventory.csv',
    summary: 'The inventory as the Master Inventory Spreadsheet (CSV)',
    role: 'viewer',
    query: listQuery,
    produces: 'text/csv',
    handler: ({ query, reply }) => {
      const csv = inventoryCsv(
        guarded(() => inventory.list(filterOf(query))),
        timeZone,
      );
      void reply.header('content-type', 'text/csv; charset=utf-8');
      void reply.header('content-disposition', `attachment; filename="meter_inventory_${new ZonedClock(timeZone).day(inventory.now())}.csv"`);
      return csv;
    },
  });
  routes.add({
    method: 'GET',
    url: '/api/inventory/:serial',
    summary: 'One inventory meter and its full history',
    role: 'viewer',
    params: serialParams,
    handler: ({ params }) => guarded(() => ({ meter: inventory.require(params.serial), history: inventory.history(params.serial) })),
  });
  routes.add({
    method: 'POST',
    url: '/api/inventory',
    summary: 'Add a meter (Unassigned, or Assigned when an address is given)',
    role: 'installer',
    body: createBody,
    handler: ({ body, user }) => guarded(() => inventory.create(body, who(user))),
  });
  routes.add({
    method: 'POST',
    url: '/api/inventory/:serial/transition',
    summary: 'Move a meter along the workflow; recorded with who, when and why',
    role: 'installer',
    params: serialParams,
    body: transitionBody,
    handler: ({ params, body, user }) => guarded(() => inventory.transition(params.serial, body, who(user))),
  });
  routes.add({
    method: 'PATCH',
    url: '/api/inventory/:serial',
    summary: 'Change notes, building/customer or site; recorded in the history',
    role: 'installer',
    params: serialParams,
    body: editBody,
    handler: ({ params, body, user }) => guarded(() => inventory.edit(params.serial, body, who(user))),
  });
  routes.add({
    method: 'POST',
    url: '/api/inventory/import',
    summary: 'Import the spreadsheet CSV (text/csv body or JSON {csv}); all rows or none',
    role: 'installer',
    // A browser session may send text/csv too; not text/plain, which any page's form can post.
    consumes: ['application/json', 'text/csv'],
    body: importBody,
    handler: ({ body, user, reply }) => {
      try {
        return guarded(() => importInventoryCsv(inventory, typeof body === 'string' ? body : body.csv, who(user), timeZone));
      } catch (e) {
        if (e instanceof InventoryImportError) return reply.code(400).send({ error: e.message, errors: e.errors });
        throw e;
      }
    },
  });
  routes.add({
    method: 'GET',
    url: '/api/address-plan/suggest',
    summary: 'The next free Modbus address on a bus for a single- or three-phase meter (null, with the reason, when none is free)',
    role: 'viewer',
    query: suggestQuery,
    handler: ({ query }) => {
      knownBus(query);
      const slot = slotOf(query);
      const address = addressPlan.suggest(slot, query.phases);
      if (address !== null) return { address };
      const kind = query.phases === 1 ? 'single-phase' : 'three-phase';
      return { address, reason: `no ${kind} address is free on bus ${slot.bus}; widen commissioning.addressPlan or use another bus` };
    },
  });
  routes.add({
    method: 'GET',
    url: '/api/address-plan/check',
    summary: 'Whether an address may be given to a meter on a bus, and why not',
    role: 'viewer',
    query: checkQuery,
    handler: ({ query }) => {
      knownBus(query);
      return addressPlan.check(slotOf(query), query.phases, query.address);
    },
  });
}
