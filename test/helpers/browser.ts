import { existsSync, mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { fromRoot } from '../../src/util/paths.js';

/** Debian's Chromium: tests never download a browser of their own. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Why browser tests cannot run here, or false when they can. Without Chromium a developer's run
 * skips them, but CI must fail: a silently skipped UI test there would hide a broken UI.
 */
export function browserSkipReason(): string | false {
  if (existsSync(CHROMIUM_PATH)) return false;
  if (process.env.CI) throw new Error(`${CHROMIUM_PATH} is missing; install Debian's chromium package for the browser tests`);
  return `${CHROMIUM_PATH} not installed`;
}

/**
 * The browser runs on the machine's real clock even when the suite runs under faketime (its
 * LD_PRELOAD is not passed on): Chromium stalls under libfaketime, and a browser whose clock
 * disagrees with the site's is what the UI must cope with anyway (it follows the server's time).
 */
function browserEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'LD_PRELOAD' && !k.startsWith('FAKETIME')) env[k] = v;
  return env;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ARGS, env: browserEnv() });
}

/** test-output/ at the package root (gitignored): screenshots to look at after a run. */
export function outputPath(file: string): string {
  const dir = fromRoot('test-output');
  mkdirSync(dir, { recursive: true });
  return `${dir}/${file}`;
}

/** Collects what went wrong inside the page, so a test can assert there was nothing. */
export function watchPage(page: Page): { problems: string[] } {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('response', (r) => {
    // API 401s are expected before login; a missing script, stylesheet or vendor file is not.
    if (r.status() >= 400 && !new URL(r.url()).pathname.startsWith('/api/')) problems.push(`HTTP ${r.status()} ${r.url()}`);
  });
  page.on('requestfailed', (r) => {
    const path = new URL(r.url()).pathname;
    // The event stream is cut when the page navigates or closes, and a reload or a view's teardown
    // aborts what it was still fetching (ERR_ABORTED): neither is a failure. A refused or dropped
    // connection is.
    if (path !== '/api/stream' && r.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`);
  });
  return { problems };
}

/** Page width beyond the viewport: anything above 0 means the phone user scrolls sideways. */
export async function horizontalOverflow(page: Page): Promise<number> {
  // A string, because the server's tsconfig has no DOM types; it runs in the page.
  const px = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
  return Number(px);
}

/** Polls `probe` until it returns a value other than undefined (Playwright locators cannot wait for "changed"). */
export async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
