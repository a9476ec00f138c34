import { api, ApiError, onUnauthorized } from './api.js';
import { byTestId, setText } from './dom.js';
import { LiveStream } from './live.js';
import { onRoute, parseHash, type Route } from './router.js';
import { StatusBar } from './status-bar.js';
import { validTz } from './tz.js';
import type { Site } from './types.js';
import { loginView } from './views/login.js';
import { meterView } from './views/meter.js';
import { metersView } from './views/meters.js';
import { errorBox, loading } from './views/notice.js';
import { overviewView } from './views/overview.js';
import type { Ctx, View } from './views/view.js';

/** The app shell: signs in, keeps one live stream, and swaps the page on hash changes. */
const main = mustFind<HTMLElement>('main');
const nav = mustFind<HTMLElement>('nav');
const siteName = mustFind<HTMLElement>('site-name');
const status = new StatusBar(document, 'UTC');

let ctx: Ctx | null = null;
let view: View | null = null;
let stream: LiveStream | null = null;

function mustFind<T extends HTMLElement>(id: string): T {
  const el = byTestId<T>(document, id);
  if (!el) throw new Error(`index.html lacks [data-testid=${id}]`);
  return el;
}

function mount(v: View | HTMLElement, title: string): void {
  view?.destroy?.();
  view = v instanceof HTMLElement ? null : v;
  main.replaceChildren(v instanceof HTMLElement ? v : v.el);
  document.title = `${title} · Microgrid OS`;
}

function render(route: Route): void {
  if (!ctx) return;
  for (const a of nav.querySelectorAll('a')) {
    const current = a.getAttribute('href') === `#/${route.page === 'meter' ? 'meters' : route.page}`;
    if (current) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  switch (route.page) {
    case 'overview':
      return mount(overviewView(ctx), 'Overview');
    case 'meters':
      return mount(metersView(ctx), 'Meters');
    case 'meter':
      return mount(meterView(ctx, route.key, route.day), route.key);
  }
}

function showLogin(): void {
  stream?.stop();
  stream = null;
  ctx = null;
  nav.hidden = true;
  status.show(false);
  mount(loginView(() => void start()), 'Sign in');
}

async function start(): Promise<void> {
  mount(loading(), 'Loading');
  let site: Site;
  try {
    await api.me();
    site = await api.site();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return showLogin();
    main.replaceChildren(errorBox(err));
    window.setTimeout(() => void start(), 5000);
    return;
  }
  site = { ...site, timezone: validTz(site.timezone) };
  ctx = { site };
  setText(siteName, site.name);
  status.setTimezone(site.timezone);
  nav.hidden = false;
  status.show(true);
  startStream(site);
  render(parseHash(location.hash));
}

function startStream(site: Site): void {
  stream?.stop();
  // Silence for three poll cycles (plus slack for a slow link) means the stream is dead.
  stream = new LiveStream(
    {
      values: (e) => {
        status.setLastUpdate(e.ts);
        view?.onValues?.(e);
      },
      overview: (o) => view?.onOverview?.(o),
      state: (s) => status.setState(s),
      failed: () => {
        api.me().catch((err: unknown) => err instanceof ApiError && err.status === 401 && ctx && showLogin());
      },
    },
    Math.max(3 * site.pollIntervalMs, 15_000) + 5_000,
  );
  stream.start();
}

// Several calls may find the session gone at once: show the form once, keeping what was typed.
onUnauthorized(() => ctx && showLogin());
onRoute(render);
mustFind<HTMLButtonElement>('logout').addEventListener('click', () => {
  api.logout().catch(() => undefined).then(showLogin);
});
void start();
