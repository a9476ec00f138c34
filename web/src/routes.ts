import type { Role } from './roles.js';
import { addMeterView } from './views/add-meter.js';
import { alarmView } from './views/alarm.js';
import { alarmsView } from './views/alarms.js';
import { billingView } from './views/billing.js';
import { customerView } from './views/customer.js';
import { discoverView } from './views/discover.js';
import { fleetView } from './views/fleet.js';
import { inventoryRecordView } from './views/inventory-record.js';
import { inventoryView } from './views/inventory.js';
import { meterView } from './views/meter.js';
import { metersView } from './views/meters.js';
import { overviewView } from './views/overview.js';
import { proposalsView } from './views/proposals.js';
import { steeringPage } from './views/steering.js';
import { ApprovalsPage } from './views/steering-approvals.js';
import { AuditPage } from './views/steering-audit.js';
import { FlowPage } from './views/steering-flow.js';
import { HealthPage } from './views/steering-health.js';
import { ModesPage } from './views/steering-modes.js';
import { OverridesPage } from './views/steering-overrides.js';
import { tariffsView } from './views/tariffs.js';
import { utilityView } from './views/utility.js';
import type { Ctx, View } from './views/view.js';

/**
 * Every page of the UI, and the only place one is declared: its hash path, the page it shows, its
 * title, its entry in the main navigation (or the entry it sits under), and the role it needs.
 * The router (parse and href), the nav and the role gate are derived from this table. To add a
 * page, add a line here.
 *
 * Paths: `meters/:key` binds `key`; `query` names the optional query parameters kept in the route;
 * `rest` gathers every query parameter into one field (the add-meter form's prefill). The first
 * path that matches wins, so `meters/new` comes before `meters/:key`; an unknown path shows the first page.
 */
export const ROUTES = [
  page({ page: 'overview', path: 'overview', title: 'Overview', nav: 'Overview', view: (ctx) => overviewView(ctx) }),
  page({ page: 'meters', path: 'meters', title: 'Meters', nav: 'Meters', view: (ctx) => metersView(ctx) }),
  page({
    page: 'add-meter',
    path: 'meters/new',
    rest: 'prefill',
    section: 'meters',
    role: 'installer',
    title: 'Adding a meter',
    view: (ctx, r) => addMeterView(ctx, r.prefill),
  }),
  page({ page: 'meter', path: 'meters/:key', query: ['day'], section: 'meters', title: (r) => r.key, view: (ctx, r) => meterView(ctx, r.key, r.day) }),
  page({ page: 'alarms', path: 'alarms', query: ['state'], title: 'Alarms', nav: 'Alarms', badge: 'alarm-badge', view: (ctx, r) => alarmsView(ctx, r.state) }),
  page({ page: 'alarm', path: 'alarms/:id', section: 'alarms', title: (r) => `Alarm ${r.id}`, view: (ctx, r) => alarmView(ctx, r.id) }),
  page({ page: 'fleet', path: 'fleet', title: 'Fleet', nav: 'Fleet', view: (ctx) => fleetView(ctx) }),
  page({ page: 'inventory', path: 'inventory', query: ['status'], title: 'Inventory', nav: 'Inventory', view: (ctx, r) => inventoryView(ctx, r.status) }),
  page({
    page: 'inventory-record',
    path: 'inventory/:serial',
    section: 'inventory',
    title: (r) => r.serial,
    view: (ctx, r) => inventoryRecordView(ctx, r.serial),
  }),
  page({ page: 'billing', path: 'billing', title: 'Billing', nav: 'Billing', view: (ctx) => billingView(ctx) }),
  page({ page: 'proposals', path: 'billing/proposals', section: 'billing', title: 'Disconnects', view: (ctx) => proposalsView(ctx) }),
  page({ page: 'tariffs', path: 'billing/tariffs', section: 'billing', title: 'Tariffs', view: (ctx) => tariffsView(ctx) }),
  page({ page: 'customer', path: 'billing/customers/:id', section: 'billing', title: (r) => r.id, view: (ctx, r) => customerView(ctx, r.id) }),
  page({ page: 'steering', path: 'steering', title: 'Energy flow', nav: 'Steering', view: (ctx) => steeringPage(ctx, 'steering', 'Energy flow', FlowPage) }),
  page({
    page: 'steering-modes',
    path: 'steering/modes',
    section: 'steering',
    title: 'Modes',
    view: (ctx) => steeringPage(ctx, 'steering-modes', 'Modes and schedules', ModesPage),
  }),
  page({
    page: 'steering-approvals',
    path: 'steering/approvals',
    section: 'steering',
    title: 'Approvals',
    view: (ctx) => steeringPage(ctx, 'steering-approvals', 'Approvals', ApprovalsPage),
  }),
  page({
    page: 'steering-overrides',
    path: 'steering/overrides',
    section: 'steering',
    title: 'Overrides',
    view: (ctx) => steeringPage(ctx, 'steering-overrides', 'Overrides', OverridesPage),
  }),
  page({
    page: 'steering-health',
    path: 'steering/health',
    section: 'steering',
    title: 'Cycle health',
    view: (ctx) => steeringPage(ctx, 'steering-health', 'Cycle health', HealthPage),
  }),
  page({
    page: 'steering-audit',
    path: 'steering/audit',
    section: 'steering',
    title: 'Steering audit log',
    view: (ctx) => steeringPage(ctx, 'steering-audit', 'Audit log', AuditPage),
  }),
  page({ page: 'utility', path: 'utility', title: 'Utility', nav: 'Utility', view: (ctx) => utilityView(ctx) }),
  page({
    page: 'discover',
    path: 'discover',
    query: ['scan'],
    role: 'installer',
    title: 'Discovering meters',
    nav: 'Discover',
    view: (ctx, r) => discoverView(ctx, r.scan),
  }),
] as const;

/** The names `:name` in a path. */
type PathParams<P extends string> = P extends `${string}:${infer K}/${infer Rest}` ? K | PathParams<Rest> : P extends `${string}:${infer K}` ? K : never;

/** A route's fields: path parameters (required), query parameters (optional), the gathered rest. */
export type RouteParams<P extends string, Q extends string, R extends string> = { [K in PathParams<P>]: string } & { [K in Q]?: string } & {
  [K in R]: Record<string, string>;
};

export interface PageDef<N extends string = string, P extends string = string, Q extends string = string, R extends string = string> {
  /** The page's name, as in `href({ page: 'meter', key })`. */
  readonly page: N;
  readonly path: P;
  readonly query?: readonly Q[];
  readonly rest?: R;
  /** The document title (and what a role refusal names). */
  readonly title: string | ((r: RouteParams<P, Q, R>) => string);
  /** Its own entry in the main navigation, with this label. */
  readonly nav?: string;
  /** A live count shown beside the nav label: the element's data-testid. */
  readonly badge?: string;
  /** The nav entry it belongs under, when it has none of its own (a meter's page is under Meters). */
  readonly section?: string;
  /** The lowest role that sees it (viewer by default); others are told which role it needs, and see no nav entry. */
  readonly role?: Role;
  readonly view: (ctx: Ctx, r: RouteParams<P, Q, R>) => View;
}

function page<const N extends string, const P extends string, const Q extends string = never, const R extends string = never>(
  def: PageDef<N, P, Q, R>,
): PageDef<N, P, Q, R> {
  return def;
}

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type RouteOf<D> = D extends PageDef<infer N, infer P, infer Q, infer R> ? Simplify<{ page: N } & RouteParams<P, Q, R>> : never;

/** A page and its parameters: what the address bar holds. */
export type Route = RouteOf<(typeof ROUTES)[number]>;
export type Page = Route['page'];
