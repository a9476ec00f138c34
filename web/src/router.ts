/** Hash routes, so a reload or a shared link lands on the same page (and the same chosen day, filter or scan). */
export type Route =
  | { page: 'overview' }
  | { page: 'meters' }
  | { page: 'meter'; key: string; day?: string }
  /** The add-meter form; `prefill` carries a scan proposal's fields (id, name, type, bus). */
  | { page: 'add-meter'; prefill: Record<string, string> }
  | { page: 'discover'; scan?: string }
  | { page: 'inventory'; status?: string }
  | { page: 'inventory-record'; serial: string }
  | { page: 'alarms'; state?: string }
  | { page: 'alarm'; id: string }
  | { page: 'fleet' }
  | { page: 'billing' }
  | { page: 'customer'; id: string }
  | { page: 'proposals' }
  | { page: 'tariffs' };

export type Page = Route['page'];

/** The navigation entry a page belongs to (a meter's page is under Meters). */
export const SECTION: Record<Page, Page> = {
  overview: 'overview',
  meters: 'meters',
  meter: 'meters',
  'add-meter': 'meters',
  discover: 'discover',
  inventory: 'inventory',
  'inventory-record': 'inventory',
  alarms: 'alarms',
  alarm: 'alarms',
  fleet: 'fleet',
  billing: 'billing',
  customer: 'billing',
  proposals: 'billing',
  tariffs: 'billing',
};

export function parseHash(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(safeDecode);
  const params = new URLSearchParams(query);
  const [first, second] = parts;
  switch (first) {
    case 'meters':
      if (second === 'new') return { page: 'add-meter', prefill: Object.fromEntries(params) };
      if (second) {
        const day = params.get('day');
        return day ? { page: 'meter', key: second, day } : { page: 'meter', key: second };
      }
      return { page: 'meters' };
    case 'discover':
      return { page: 'discover', ...opt('scan', params) };
    case 'inventory':
      return second ? { page: 'inventory-record', serial: second } : { page: 'inventory', ...opt('status', params) };
    case 'alarms':
      return second ? { page: 'alarm', id: second } : { page: 'alarms', ...opt('state', params) };
    case 'fleet':
      return { page: 'fleet' };
    case 'billing':
      if (second === 'proposals') return { page: 'proposals' };
      if (second === 'tariffs') return { page: 'tariffs' };
      if (second === 'customers' && parts[2]) return { page: 'customer', id: parts[2] };
      return { page: 'billing' };
    default:
      return { page: 'overview' };
  }
}

/** `{ [name]: value }` when the query has the parameter, else nothing (optional route fields stay absent). */
function opt<K extends string>(name: K, params: URLSearchParams): Partial<Record<K, string>> {
  const v = params.get(name);
  const out: Partial<Record<K, string>> = {};
  if (v) out[name] = v;
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const enc = encodeURIComponent;
const query = (params: Record<string, string | undefined>): string => {
  const s = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '')).toString();
  return s ? `?${s}` : '';
};

export function href(route: Route): string {
  switch (route.page) {
    case 'overview':
      return '#/overview';
    case 'meters':
      return '#/meters';
    case 'meter':
      return `#/meters/${enc(route.key)}${route.day ? `?day=${route.day}` : ''}`;
    case 'add-meter':
      return `#/meters/new${query(route.prefill)}`;
    case 'discover':
      return `#/discover${query({ scan: route.scan })}`;
    case 'inventory':
      return `#/inventory${query({ status: route.status })}`;
    case 'inventory-record':
      return `#/inventory/${enc(route.serial)}`;
    case 'alarms':
      return `#/alarms${query({ state: route.state })}`;
    case 'alarm':
      return `#/alarms/${enc(route.id)}`;
    case 'fleet':
      return '#/fleet';
    case 'billing':
      return '#/billing';
    case 'customer':
      return `#/billing/customers/${enc(route.id)}`;
    case 'proposals':
      return '#/billing/proposals';
    case 'tariffs':
      return '#/billing/tariffs';
  }
}

/** Records a route in the address bar without re-rendering (e.g. a newly picked day). */
export function replaceRoute(route: Route): void {
  history.replaceState(null, '', href(route));
}

export function onRoute(cb: (r: Route) => void): void {
  window.addEventListener('hashchange', () => cb(parseHash(location.hash)));
}
