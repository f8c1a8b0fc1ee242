// Trading from the UI: the order ticket checks in the browser with the server's rules, sends
// through the place_order server function, and the blotter and positions follow live.
import { test, expect, type Page } from '@playwright/test';
import { signIn, signInRequest } from './session';

/** Console errors, page errors and failed responses: how broken hydration shows. */
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

/** Opens /orders and waits until the ticket runs in the browser. */
async function openTicket(page: Page): Promise<void> {
  await page.goto('/orders');
  await expect(page.getByTestId('ticket')).toHaveAttribute('data-ready', 'true');
}

/** The signed quantity of `symbol` on /positions (0 when there is no row). */
async function positionQty(page: Page, symbol: string): Promise<number> {
  await page.goto('/positions');
  await expect(page.getByRole('heading', { name: 'Positions' })).toBeVisible();
  await expect(
    page.getByTestId('position-row').first().or(page.getByTestId('positions-empty')),
  ).toBeVisible();
  const row = page.locator(`[data-testid=position-row][data-symbol=${symbol}]`);
  if ((await row.count()) === 0) return 0;
  return Number(await row.getByTestId('position-qty').textContent());
}

test('a market order from the ticket fills, shows in the blotter and on /positions', async ({ page }) => {
  const problems = watchForErrors(page);
  await signIn(page);
  const before = await positionQty(page, 'MSFT');

  await openTicket(page);
  await page.getByLabel('Symbol').fill('msft');
  await page.getByLabel('Symbol').blur();
  // The quote follows the committed symbol.
  await expect(page.getByTestId('quote-ask')).toHaveText(/^\d+(\.\d+)?$/);
  await page.getByRole('button', { name: 'Buy' }).click();
  await page.getByLabel('Quantity').fill('3');
  await page.getByRole('button', { name: 'Review order' }).click();
  await expect(page.getByTestId('ticket-summary')).toHaveText('BUY 3 MSFT MKT DAY');
  await page.getByRole('button', { name: 'Send order' }).click();

  const result = page.getByTestId('ticket-result');
  await expect(result).toHaveAttribute('data-status', /^(accepted|partially_filled|filled)$/);
  const id = await result.getAttribute('data-order-id');
  expect(id).toBeTruthy();

  await page.getByTestId('filter-all').click();
  const row = page.locator(`[data-testid=order-row][data-order-id="${id}"]`);
  await expect(row).toHaveAttribute('data-status', 'filled');
  await expect(row.getByTestId('order-status')).toHaveText('filled');
  await expect(row.getByTestId('order-filled')).toHaveText(/^3 @ \d+(\.\d+)?$/);
  await expect(row.getByTestId('order-cancel')).toHaveCount(0);
  await expect(page.getByTestId('fill-row').filter({ hasText: 'MSFT' }).first()).toBeVisible();

  await expect.poll(() => positionQty(page, 'MSFT'), { timeout: 15_000 }).toBe(before + 3);
  // The position is valued from a quote snapshot once the page runs in the browser.
  const position = page.locator('[data-testid=position-row][data-symbol=MSFT]');
  await expect(position.getByTestId('position-mark')).toHaveText(/^\d+(\.\d+)?$/);
  await expect(position.getByTestId('position-value')).toHaveText(/^-?\d+\.\d{2}$/);
  expect(problems).toEqual([]);
});

test('a limit order far from the market rests and is canceled from the blotter', async ({ page }) => {
  const problems = watchForErrors(page);
  await signIn(page);
  await openTicket(page);
  await page.getByLabel('Symbol').fill('AAPL');
  await page.getByLabel('Quantity').fill('1');
  await page.getByLabel('Type').selectOption('limit');
  // The limit field appears with the type; the stop field does not.
  await expect(page.getByLabel('Stop price')).toHaveCount(0);
  await page.getByLabel('Limit price').fill('1.00');
  await page.getByRole('button', { name: 'Review order' }).click();
  await expect(page.getByTestId('ticket-summary')).toHaveText('BUY 1 AAPL LMT 1 DAY');
  await page.getByRole('button', { name: 'Send order' }).click();

  const result = page.getByTestId('ticket-result');
  await expect(result).toHaveAttribute('data-status', 'accepted');
  const id = await result.getAttribute('data-order-id');

  // The open tab is the default.
  const row = page.locator(`[data-testid=order-row][data-order-id="${id}"]`);
  await expect(row).toHaveAttribute('data-status', 'accepted');
  await expect(row.getByTestId('order-status')).toHaveText('accepted');
  await row.getByTestId('order-cancel').click();
  // It leaves the open orders once the broker confirms.
  await expect(row).toHaveCount(0);

  await page.getByTestId('filter-closed').click();
  await expect(row).toHaveAttribute('data-status', 'canceled');
  expect(problems).toEqual([]);
});

test('an invalid ticket shows the field error and sends nothing', async ({ page }) => {
  const problems = watchForErrors(page);
  await signIn(page);
  const sent: string[] = [];
  page.on('request', (req) => {
    if (req.url().includes('/api/fn/place_order')) sent.push(`${req.method()} ${req.url()}`);
  });
  await openTicket(page);
  await page.getByLabel('Symbol').fill('AAPL');
  await page.getByLabel('Quantity').fill('0');
  await page.getByRole('button', { name: 'Review order' }).click();

  await expect(page.getByTestId('error-qty')).toHaveText('must be greater than zero');
  await expect(page.getByLabel('Quantity')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByTestId('ticket-confirm')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Send order' })).toHaveCount(0);

  // A blank symbol is named too; fixing the quantity clears its error.
  await page.getByLabel('Symbol').fill('');
  await page.getByLabel('Quantity').fill('5');
  await page.getByRole('button', { name: 'Review order' }).click();
  await expect(page.getByTestId('error-symbol')).toBeVisible();
  await expect(page.getByTestId('error-qty')).toHaveCount(0);

  // Give a stray request time to show up.
  await page.waitForTimeout(500);
  expect(sent).toEqual([]);
  expect(problems).toEqual([]);
});

/** Places a resting buy limit order from the ticket; its id. */
async function placeRestingLimit(page: Page, symbol: string): Promise<string> {
  await page.getByLabel('Symbol').fill(symbol);
  await page.getByLabel('Quantity').fill('1');
  await page.getByLabel('Type').selectOption('limit');
  await page.getByLabel('Limit price').fill('1');
  await page.getByRole('button', { name: 'Review order' }).click();
  const result = page.getByTestId('ticket-result');
  // The ticket still shows the previous order's result until the new one arrives.
  const previous = (await result.count()) > 0 ? await result.getAttribute('data-order-id') : null;
  await page.getByRole('button', { name: 'Send order' }).click();
  if (previous) await expect(result).not.toHaveAttribute('data-order-id', previous);
  await expect(result).toHaveAttribute('data-status', 'accepted');
  const id = await result.getAttribute('data-order-id');
  expect(id).toBeTruthy();
  return id!;
}

test('cancel all asks first, then cancels every open order', async ({ page }) => {
  const problems = watchForErrors(page);
  await signIn(page);
  await openTicket(page);
  const first = await placeRestingLimit(page, 'JPM');
  const second = await placeRestingLimit(page, 'XOM');
  const rows = [first, second].map((id) => page.locator(`[data-testid=order-row][data-order-id="${id}"]`));
  for (const row of rows) await expect(row).toHaveAttribute('data-status', 'accepted');

  // The first click only asks; keeping the orders leaves them working.
  await page.getByTestId('cancel-all').click();
  await page.getByRole('button', { name: 'Keep' }).click();
  await expect(page.getByTestId('cancel-all-confirm')).toHaveCount(0);
  for (const row of rows) await expect(row).toHaveAttribute('data-status', 'accepted');

  await page.getByTestId('cancel-all').click();
  await page.getByTestId('cancel-all-confirm').click();
  await expect(page.getByRole('status').filter({ hasText: 'Cancel requested for' })).toBeVisible();
  for (const row of rows) await expect(row).toHaveCount(0);
  await expect(page.getByTestId('blotter-empty')).toBeVisible();
  await page.getByTestId('filter-closed').click();
  for (const row of rows) await expect(row).toHaveAttribute('data-status', 'canceled');
  expect(problems).toEqual([]);
});

test('a viewer sees the blotter but no ticket, and the server refuses their orders', async ({ page, request, baseURL }) => {
  const problems = watchForErrors(page);
  await signInRequest(request, baseURL!);
  const viewer = { username: `viewer${Date.now()}`, password: 'viewer-password-e2e' };
  const created = await request.post('/api/v1/users', {
    headers: { origin: baseURL! },
    data: { ...viewer, role: 'viewer' },
  });
  expect(created.status()).toBe(201);

  await page.goto('/login');
  await page.waitForLoadState('networkidle');
  await page.getByLabel('Username').fill(viewer.username);
  await page.getByLabel('Password').fill(viewer.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/$/);
  await page.goto('/orders');
  await expect(page.getByTestId('ticket-readonly')).toBeVisible();
  await expect(page.getByTestId('ticket')).toHaveCount(0);
  await expect(page.getByTestId('blotter')).toBeVisible();
  await expect(page.getByTestId('cancel-all')).toHaveCount(0);
  expect(problems).toEqual([]);

  // Calling the server function directly with the viewer's session is refused.
  const res = await page.request.post('/api/fn/place_order', {
    headers: { origin: baseURL! },
    data: { order: { symbol: 'AAPL', side: 'buy', qty: '1', type: 'market' } },
  });
  expect(res.status()).toBe(403);
  expect((await res.json()).error_code).toBe('FORBIDDEN');
});

test('the blotter shows an order placed elsewhere as soon as the server pushes it', async ({ page, playwright, baseURL }) => {
  const problems = watchForErrors(page);
  await signIn(page);
  await openTicket(page);
  await expect(page.getByTestId('blotter')).toBeVisible();

  // A bot places an order through the REST API with a bearer token: no cookie, no page action.
  const api = await playwright.request.newContext({ baseURL });
  const login = await api.post('/api/v1/auth/login', { data: { username: 'admin', password: process.env.E2E_ADMIN_PASSWORD ?? 'e2e-admin-password' } });
  expect(login.status()).toBe(200);
  const token = (await login.json()).access_token as string;
  const placed = await api.post('/api/v1/orders', {
    headers: { authorization: `Bearer ${token}` },
    data: { symbol: 'GLD', side: 'buy', qty: '2', type: 'limit', limit_price: '1', client_order_id: `push-${Date.now()}` },
  });
  expect(placed.status()).toBe(201);
  const id = (await placed.json()).id as string;

  // The page polls only every 15 s; the event stream must bring the order well before that.
  await expect(page.locator(`[data-testid=order-row][data-order-id="${id}"]`)).toBeVisible({ timeout: 5_000 });
  await api.dispose();
  expect(problems).toEqual([]);
});
