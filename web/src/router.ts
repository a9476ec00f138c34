import { ROUTES, type PageDef, type Route } from './routes.js';

export type { Page, Route } from './routes.js';

/**
 * Hash routes, so a reload or a shared link lands on the same page (and the same chosen day, filter
 * or scan). Parsing and links both follow the route table (routes.ts); nothing here names a page.
 */
// Read on use, never at load: routes.ts imports the views, which import this module.
const defs = (): readonly PageDef[] => ROUTES;

/** The first page of the table: where an unknown route lands. */
function firstDef(): PageDef {
  const d = defs()[0];
  if (!d) throw new Error('the route table is empty');
  return d;
}

export function defOf(route: Route): PageDef {
  return defs().find((d) => d.page === route.page) ?? firstDef();
}

/** The nav entry a route sits under: its own, or its section's. */
export function sectionOf(route: Route): string {
  const d = defOf(route);
  return d.section ?? d.page;
}

export function parseHash(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(safeDecode);
  const params = new URLSearchParams(query);
  for (const d of defs()) {
    const pattern = d.path.split('/');
    if (pattern.length !== parts.length) continue;
    const out: Record<string, unknown> = { page: d.page };
    const ok = pattern.every((seg, i) => {
      const part = parts[i] as string;
      if (seg.startsWith(':')) out[seg.slice(1)] = part;
      return seg.startsWith(':') || seg === part;
    });
    if (!ok) continue;
    for (const name of d.query ?? []) {
      const v = params.get(name);
      if (v) out[name] = v;
    }
    if (d.rest) out[d.rest] = Object.fromEntries(params);
    return out as Route;
  }
  // A deeper path than any page (an old link, say) shows its section's first page.
  const section = defs().find((d) => d.path === parts[0] && !d.path.includes(':'));
  return { page: (section ?? firstDef()).page, ...(section?.rest ? { [section.rest]: {} } : {}) } as Route;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function href(route: Route): string {
  const d = defOf(route);
  const fields = route as unknown as Record<string, unknown>;
  const path = d.path
    .split('/')
    .map((seg) => (seg.startsWith(':') ? encodeURIComponent(paramText(fields[seg.slice(1)])) : seg))
    .join('/');
  const q: Array<[string, string]> = [];
  for (const name of d.query ?? []) {
    const v = fields[name];
    if (typeof v === 'string' && v !== '') q.push([name, v]);
  }
  // A view may leave a filter it dropped as undefined.
  if (d.rest)
    for (const [k, v] of Object.entries((fields[d.rest] ?? {}) as Record<string, string | undefined>)) if (v !== undefined && v !== '') q.push([k, v]);
  const s = new URLSearchParams(q).toString();
  return `#/${path}${s ? `?${s}` : ''}`;
}

/** Records a route in the address bar without re-rendering (e.g. a newly picked day). */
export function replaceRoute(route: Route): void {
  history.replaceState(null, '', href(route));
}

export function onRoute(cb: (r: Route) => void): void {
  window.addEventListener('hashchange', () => cb(parseHash(location.hash)));
}

/** A path parameter as text: route fields hold strings or numbers. */
function paramText(v: unknown): string {
  return typeof v === 'string' || typeof v === 'number' ? String(v) : '';
}
