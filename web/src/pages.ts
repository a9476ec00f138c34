import { can, type Role } from './roles.js';
import type { Route } from './router.js';
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
import { needsRole } from './views/notice.js';
import { overviewView } from './views/overview.js';
import { proposalsView } from './views/proposals.js';
import { tariffsView } from './views/tariffs.js';
import type { Ctx, View } from './views/view.js';

export interface Mounted {
  readonly view: View | HTMLElement;
  readonly title: string;
}

function gated(ctx: Ctx, role: Role, title: string, make: () => View): Mounted {
  return can(ctx.user, role) ? { view: make(), title } : { view: needsRole(role, title), title };
}

/** Which page a route shows; pages for a higher role explain why they are not shown. */
export function pageFor(route: Route, ctx: Ctx): Mounted {
  switch (route.page) {
    case 'overview':
      return { view: overviewView(ctx), title: 'Overview' };
    case 'meters':
      return { view: metersView(ctx), title: 'Meters' };
    case 'meter':
      return { view: meterView(ctx, route.key, route.day), title: route.key };
    case 'add-meter':
      return gated(ctx, 'installer', 'Adding a meter', () => addMeterView(ctx, route.prefill));
    case 'discover':
      return gated(ctx, 'installer', 'Discovering meters', () => discoverView(ctx, route.scan));
    case 'inventory':
      return { view: inventoryView(ctx, route.status), title: 'Inventory' };
    case 'inventory-record':
      return { view: inventoryRecordView(ctx, route.serial), title: route.serial };
    case 'alarms':
      return { view: alarmsView(ctx, route.state), title: 'Alarms' };
    case 'alarm':
      return { view: alarmView(ctx, route.id), title: `Alarm ${route.id}` };
    case 'fleet':
      return { view: fleetView(ctx), title: 'Fleet' };
    case 'billing':
      return { view: billingView(ctx), title: 'Billing' };
    case 'customer':
      return { view: customerView(ctx, route.id), title: route.id };
    case 'proposals':
      return { view: proposalsView(ctx), title: 'Disconnects' };
    case 'tariffs':
      return { view: tariffsView(ctx), title: 'Tariffs' };
  }
}
