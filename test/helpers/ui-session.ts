import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { horizontalOverflow, outputPath, watchPage } from './browser.js';

export const DESKTOP = { width: 1280, height: 860 } as const;
export const PHONE = { width: 375, height: 740 } as const;

export interface UiSession {
  readonly context: BrowserContext;
  readonly page: Page;
  /** What went wrong inside the page (script errors, missing files); a test asserts it stays empty. */
  readonly problems: string[];
}

/** A fresh browser context signed in through the login form, as a person would. */
export async function signIn(
  browser: Browser,
  url: string,
  username: string,
  password: string,
  viewport: { width: number; height: number } = DESKTOP,
): Promise<UiSession> {
  const phone = viewport.width < 500;
  const context = await browser.newContext({ viewport, isMobile: phone, hasTouch: phone, acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const { problems } = watchPage(page);
  await page.goto(`${url}/#/overview`);
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('overview').waitFor();
  return { context, page, problems };
}

/**
 * A full-page screenshot into test-output/ (to look at after the run); at phone width it also
 * checks that nothing makes the page scroll sideways.
 */
export async function shoot(page: Page, name: string): Promise<void> {
  await page.waitForTimeout(250);
  const width = page.viewportSize()?.width ?? 0;
  const kind = width < 500 ? 'phone' : 'desktop';
  await page.screenshot({ path: outputPath(`${name}-${kind}.png`), fullPage: true });
  if (kind === 'phone') assert.equal(await horizontalOverflow(page), 0, `${name}: no horizontal page scroll at ${width} px`);
}

/** Creates a user through the API as admin (the form for that is not part of these pages). */
export async function createUser(url: string, adminToken: string, username: string, password: string, role: string): Promise<void> {
  const res = await fetch(`${url}/api/users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ username, password, role }),
  });
  assert.equal(res.status, 200, await res.text());
}

/** Whether the server has a route yet (during parallel development, some arrive later than the UI). */
export async function hasRoute(url: string, token: string, path: string): Promise<boolean> {
  const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  return !(res.status === 404 && text.includes('no route'));
}
