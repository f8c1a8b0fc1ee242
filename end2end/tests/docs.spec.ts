// /docs: Swagger UI, served by Binder from the npm package's files, renders /openapi.json
// without a single request leaving this server.
import { test, expect } from '@playwright/test';

test('the docs page renders the operations from this server alone', async ({ page, baseURL }) => {
  const origin = new URL(baseURL!).origin;
  const elsewhere: string[] = [];
  const problems: string[] = [];
  page.on('request', (req) => {
    const url = new URL(req.url());
    if (url.protocol !== 'data:' && url.origin !== origin) elsewhere.push(req.url());
  });
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()} ${res.url()}`);
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));

  // Public: no sign-in needed to read the API's description.
  await page.goto('/docs');
  await expect(page.locator('.swagger-ui .info .title')).toContainText('Binder');
  const placeOrder = page.locator('.opblock-post', { hasText: '/api/v1/orders' }).first();
  await expect(placeOrder).toBeVisible();
  await expect(page.locator('.opblock-get', { hasText: '/api/v1/events' }).first()).toBeVisible();
  await expect(page.locator('#docs-missing')).toBeHidden();

  // Opening an operation shows its parameters, with the idempotency header.
  await placeOrder.locator('.opblock-summary').click();
  await expect(placeOrder.getByText('Idempotency-Key').first()).toBeVisible();

  expect(elsewhere).toEqual([]);
  expect(problems).toEqual([]);
});
