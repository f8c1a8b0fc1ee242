// The UI shell: rendered on the server, hydrated in the browser, status updating live.
import { test, expect, type Page } from '@playwright/test';
import { signIn, signInRequest } from './session';

/** Fails the test on any console error or failed response, which is how broken hydration shows. */
function watchForErrors(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()} ${res.url()}`);
  });
  return problems;
}

test('the server renders the layout and the status before any script runs', async ({ request, baseURL }) => {
  await signInRequest(request, baseURL!);
  const res = await request.get('/');
  expect(res.status()).toBe(200);
  const html = await res.text();
  for (const label of ['Dashboard', 'Orders', 'Positions', 'Admin']) {
    expect(html).toContain(`>${label}<`);
  }
  expect(html).toContain('Trading mode');
  expect(html).toContain('PAPER');
  expect(html).toContain('/pkg/binder.wasm');
  expect(html).toContain('/pkg/binder.css');
});

test('the page hydrates: navigation happens in the browser without a reload', async ({ page }) => {
  const problems = watchForErrors(page);
  await signIn(page);
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  // A marker on window survives client-side navigation but not a full page load.
  await page.evaluate(() => ((window as any).__hydrated_marker = 'still here'));
  // Wait for the WASM module to load and attach before clicking.
  await page.waitForLoadState('networkidle');
  await page.getByRole('link', { name: 'Orders' }).click();
  await expect(page).toHaveURL(/\/orders$/);
  await expect(page.getByRole('heading', { name: 'Orders' })).toBeVisible();
  expect(await page.evaluate(() => (window as any).__hydrated_marker)).toBe('still here');
  await expect(page.getByRole('link', { name: 'Orders' })).toHaveAttribute('aria-current', 'page');
  expect(problems).toEqual([]);
});

test('the status page shows /health and updates it live', async ({ page, request, baseURL }) => {
  const problems = watchForErrors(page);
  await signIn(page);
  await page.goto('/status');
  const table = page.getByTestId('health-table');
  await expect(table).toBeVisible();
  await expect(page.getByTestId('broker_state')).toHaveText('ready');
  await expect(page.getByTestId('db_connected')).toHaveText('true');
  await expect(page.getByTestId('trading_mode')).toHaveText('paper');

  await signInRequest(request, baseURL!);
  const health = await (await request.get('/health')).json();
  await expect(page.getByTestId('version')).toHaveText(health.version);

  await page.evaluate(() => ((window as any).__no_reload = true));
  const first = await page.getByTestId('checked_at').textContent();
  await expect
    .poll(async () => page.getByTestId('checked_at').textContent(), { timeout: 10_000 })
    .not.toBe(first);
  expect(await page.evaluate(() => (window as any).__no_reload)).toBe(true);
  expect(problems).toEqual([]);
});

test('unknown addresses answer with the JSON error envelope', async ({ request }) => {
  const res = await request.get('/no/such/page', { headers: { 'x-request-id': 'e2e-404' } });
  expect(res.status()).toBe(404);
  const body = await res.json();
  expect(body.error_code).toBe('NOT_FOUND');
  expect(body.request_id).toBe('e2e-404');
  expect(res.headers()['x-request-id']).toBe('e2e-404');
});
