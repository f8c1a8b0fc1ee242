// Signing in and out in the browser: pages need a session, the cookie is HttpOnly and strict,
// a wrong password is explained, and signing out ends the session.
import { test, expect, type Page } from '@playwright/test';
import { admin, signIn } from './session';

/** Collects console errors (a CSP violation shows up here) and page errors. */
function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  return problems;
}

test('pages send a visitor without a session to the login page', async ({ page }) => {
  await page.goto('/status');
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
});

test('a wrong password is refused with a message', async ({ page }) => {
  await page.goto('/login');
  await page.waitForLoadState('networkidle');
  await page.getByLabel('Username').fill(admin.username);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText('wrong username or password');
  await expect(page).toHaveURL(/\/login$/);
});

test('sign in, use the app, sign out', async ({ page, context }) => {
  const problems = watchConsole(page);
  await signIn(page);
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'binder_session');
  expect(session, JSON.stringify(cookies)).toBeDefined();
  expect(session!.httpOnly).toBe(true);
  expect(session!.sameSite).toBe('Strict');
  // Scripts cannot read the session.
  expect(await page.evaluate(() => document.cookie)).not.toContain('binder_session');

  await page.getByRole('link', { name: 'Status' }).click();
  await expect(page.getByTestId('broker_state')).toBeVisible();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  expect((await context.cookies()).find((c) => c.name === 'binder_session')).toBeUndefined();
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
  // The hydration script ran under the page's CSP without a violation.
  expect(problems).toEqual([]);
});
