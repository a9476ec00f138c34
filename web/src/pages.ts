import { can } from './roles.js';
import { defOf, type Route } from './router.js';
import { needsRole } from './views/notice.js';
import type { Ctx, View } from './views/view.js';

export interface Mounted {
  readonly view: View | HTMLElement;
  readonly title: string;
}

/** Which page a route shows (from the route table); pages for a higher role explain why they are not shown. */
export function pageFor(route: Route, ctx: Ctx): Mounted {
  const d = defOf(route);
  const params = route as never;
  const title = typeof d.title === 'string' ? d.title : d.title(params);
  if (d.role && !can(ctx.user, d.role)) return { view: needsRole(d.role, title), title };
  return { view: d.view(ctx, params), title };
}
