import { h } from './dom.js';
import { can } from './roles.js';
import { ROUTES, type PageDef, type Route } from './routes.js';
import { href, sectionOf } from './router.js';
import type { User } from './types.js';

const entries = (): PageDef[] => (ROUTES as unknown as readonly PageDef[]).filter((d) => d.nav !== undefined);

/**
 * The main navigation, built from the route table: one link per page with a `nav` label, in table
 * order, shown only to roles that may open it; then the log-out button.
 */
export function buildNav(nav: HTMLElement, logout: () => void): void {
  nav.replaceChildren(
    ...entries().map((d) =>
      h(
        'a',
        {
          href: href({ page: d.page } as Route),
          'data-testid': `nav-${d.page}`,
          'data-page': d.page,
          'data-role': d.role ?? null,
          hidden: d.role !== undefined,
        },
        d.nav ?? '',
        d.badge ? ' ' : null,
        d.badge ? h('span', { class: 'nav-badge', 'data-testid': d.badge, hidden: true }) : null,
      ),
    ),
    h('button', { type: 'button', class: 'link', 'data-testid': 'logout', onclick: logout }, 'Log out'),
  );
}

/** Entries for a higher role are hidden from those who lack it. */
export function showNavFor(nav: HTMLElement, user: User): void {
  for (const a of nav.querySelectorAll<HTMLElement>('a[data-page]')) {
    const d = entries().find((e) => e.page === a.dataset['page']);
    a.hidden = d?.role !== undefined && !can(user, d.role);
  }
}

/** Marks the entry of the section a route is in as the current page. */
export function markCurrent(nav: HTMLElement, route: Route): void {
  const section = sectionOf(route);
  for (const a of nav.querySelectorAll<HTMLElement>('a[data-page]')) {
    if (a.dataset['page'] === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}
