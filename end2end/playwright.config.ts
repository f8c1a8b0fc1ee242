// Playwright drives Debian's chromium (no browser download) against a Binder binary that it
// starts itself in simulator mode on its own port and database.
import { defineConfig } from '@playwright/test';

const port = Number(process.env.E2E_PORT ?? 3100);
// A fresh journal per run: state left by an earlier run (orders, users) cannot leak in.
// The config is evaluated in every Playwright process; the id is fixed once per run.
const runId = (process.env.E2E_RUN_ID ??= String(Date.now()));
const binary = process.env.BINDER_BIN ?? '../target/release/binder';
// The first admin, created on first start of the e2e database; the tests sign in with it.
export const adminPassword = process.env.E2E_ADMIN_PASSWORD ?? 'e2e-admin-password';

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: {
    command: `${binary} serve`,
    url: `http://127.0.0.1:${port}/readyz`,
    timeout: 60_000,
    reuseExistingServer: false,
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      BINDER_ADDR: `127.0.0.1:${port}`,
      BINDER_BROKER: 'simulator',
      DATABASE_URL: process.env.E2E_DATABASE_URL ?? `postgres://postgres@127.0.0.1:5432/binder_e2e_${runId}`,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      LEPTOS_SITE_ROOT: process.env.LEPTOS_SITE_ROOT ?? '../target/site',
      BINDER_LOG: 'warn',
      BINDER_ADMIN_PASSWORD: adminPassword,
    },
  },
});
