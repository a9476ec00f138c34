/** Hash routes, so a reload or a shared link lands on the same page (and the same chosen day). */
export type Route = { page: 'overview' } | { page: 'meters' } | { page: 'meter'; key: string; day?: string };

export function parseHash(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(safeDecode);
  if (parts[0] === 'meters' && parts[1]) {
    const day = new URLSearchParams(query).get('day');
    return day ? { page: 'meter', key: parts[1], day } : { page: 'meter', key: parts[1] };
  }
  if (parts[0] === 'meters') return { page: 'meters' };
  return { page: 'overview' };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function href(route: Route): string {
  switch (route.page) {
    case 'overview':
      return '#/overview';
    case 'meters':
      return '#/meters';
    case 'meter':
      return `#/meters/${encodeURIComponent(route.key)}${route.day ? `?day=${route.day}` : ''}`;
  }
}

/** Records a route in the address bar without re-rendering (e.g. a newly picked day). */
export function replaceRoute(route: Route): void {
  history.replaceState(null, '', href(route));
}

export function onRoute(cb: (r: Route) => void): void {
  window.addEventListener('hashchange', () => cb(parseHash(location.hash)));
}
