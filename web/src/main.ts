import { AlarmBadge } from './alarm-badge.js';
import { api, ApiError, onUnauthorized } from './api.js';
import { byTestId, setText } from './dom.js';
import { LiveStream } from './live.js';
import { buildNav, markCurrent, showNavFor } from './nav.js';
import { pageFor } from './pages.js';
import { onRoute, parseHash, type Route } from './router.js';
import { StatusBar } from './status-bar.js';
import { validTz } from './tz.js';
import type { Site, User } from './types.js';
import { loginView } from './views/login.js';
import { errorBox, loading } from './views/notice.js';
import type { ShellCtx, View } from './views/view.js';
import type { PageScope } from './loader.js';

/** The app shell: signs in, keeps one live stream, and swaps the page on hash changes. */
const main = mustFind('main');
const nav = mustFind('nav');
buildNav(nav, () => {
  void api
    .logout()
    .catch(() => undefined)
    .then(showLogin);
});
const siteName = mustFind('site-name');
const status = new StatusBar(document, 'UTC');
const alarmBadge = new AlarmBadge(mustFind('alarm-badge'));

let ctx: ShellCtx | null = null;
let scope: PageScope | null = null;
let view: View | null = null;
let stream: LiveStream | null = null;

function mustFind(id: string): HTMLElement {
  const el = byTestId(document, id);
  if (!el) throw new Error(`index.html lacks [data-testid=${id}]`);
  return el;
}

function mount(v: View | HTMLElement, title: string, pageScope: PageScope | null = null): void {
  view?.destroy?.();
  scope?.end();
  scope = pageScope;
  view = v instanceof HTMLElement ? null : v;
  main.replaceChildren(v instanceof HTMLElement ? v : v.el);
  document.title = `${title} · Microgrid OS`;
}

function render(route: Route): void {
  if (!ctx) return;
  markCurrent(nav, route);
  const { view: v, title, scope: s } = pageFor(route, ctx);
  mount(v, title, s);
}

function showLogin(): void {
  stream?.stop();
  stream = null;
  ctx = null;
  alarmBadge.stop();
  nav.hidden = true;
  status.show(false);
  mount(
    loginView(() => void start()),
    'Sign in',
  );
}

async function start(): Promise<void> {
  mount(loading(), 'Loading');
  let site: Site;
  let user: User;
  try {
    user = (await api.me()).user;
    site = await api.site();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      showLogin();
      return;
    }
    main.replaceChildren(errorBox(err));
    window.setTimeout(() => void start(), 5000);
    return;
  }
  site = { ...site, timezone: validTz(site.timezone) };
  ctx = { site, user, alarmsChanged: () => alarmBadge.refresh() };
  setText(siteName, site.name);
  status.setTimezone(site.timezone);
  showNavFor(nav, user);
  nav.hidden = false;
  status.show(true);
  alarmBadge.start();
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
      event: (name, data) => {
        if (name === 'alarm') alarmBadge.refresh();
        view?.onEvent?.(name, data);
      },
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
void start();
