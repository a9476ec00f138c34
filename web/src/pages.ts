import { PageScope } from './loader.js';
import { can } from './roles.js';
import { defOf, type Route } from './router.js';
import { needsRole } from './views/notice.js';
import type { ShellCtx, View } from './views/view.js';

export interface Mounted {
  readonly view: View | HTMLElement;
  readonly title: string;
  /** Ended by the shell when the page is left. */
  readonly scope: PageScope;
}

/** Which page a route shows (from the route table); pages for a higher role explain why they are not shown. */
export function pageFor(route: Route, ctx: ShellCtx): Mounted {
  const d = defOf(route);
  const params = route as never;
  const title = typeof d.title === 'string' ? d.title : d.title(params);
  const scope = new PageScope();
  if (d.role && !can(ctx.user, d.role)) return { view: needsRole(d.role, title), title, scope };
  return { view: d.view({ ...ctx, scope }, params), title, scope };
}
