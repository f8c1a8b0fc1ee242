// Signing in for the browser tests: through the login page (as a person would), or through the
// login server function for API-level checks.
import { expect, type APIRequestContext, type Page } from '@playwright/test';
// Same default as playwright.config.ts, which gives it to the server as BINDER_ADMIN_PASSWORD.
export const admin = {
  username: 'admin',
  password: process.env.E2E_ADMIN_PASSWORD ?? 'e2e-admin-password',
};

/** Signs in through the login page and waits for the dashboard. */
export async function signIn(page: Page): Promise<void> {
  await page.goto('/login');
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  // The form submits through the hydrated app: wait for the WASM module first.
  await page.waitForLoadState('networkidle');
  await page.getByLabel('Username').fill(admin.username);
  await page.getByLabel('Password').fill(admin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('current-user')).toHaveText(admin.username);
}

/** Signs in an API request context (its cookie jar keeps the session). */
export async function signInRequest(request: APIRequestContext, baseURL: string): Promise<void> {
  const res = await request.post('/api/fn/login', {
    headers: { origin: baseURL },
    data: admin,
  });
  expect(res.status()).toBe(200);
}
