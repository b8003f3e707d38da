import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, freePort, startServer, type ServerProcess } from './support/server.js';

// The dashboard, end to end in a real headless Chromium (Debian's package, driven by playwright-core).
// Screenshots go to test/artifacts/ (kept by CI as artifacts, not committed); SLIPWAY_WRITE_DOCS=1 also
// refreshes docs/images/dashboard.png.
const CHROMIUM = process.env.SLIPWAY_CHROMIUM ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available)
  console.warn(
    `dashboard.test.ts: skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set SLIPWAY_CHROMIUM)`,
  );

const PASSWORD = 'dashboard-admin-pw';
const VIEWER_PASSWORD = 'dashboard-viewer-pw';
// Short health intervals so a killed VM is recreated within seconds, and a slow createVm so the create's
// steps arrive one by one while the page is watching.
const CONFIG = `
iaas:
  - name: sandbox
    plugin: "@slipway/iaas-sandbox"
    config: { boot_delay_ms: 50, latency_ms: { default: 5, createVm: 250 } }
network: { plugin: "@slipway/network-flat", config: { ranges: { sandbox: { cidr: 10.41.0.0/24 } } } }
agents: { heartbeat_interval_seconds: 0.2, boot_timeout_seconds: 30 }
health: { agent_timeout_seconds: 1, analyze_interval_seconds: 0.2, cloud_check_interval_seconds: 0.5 }
plans:
  - name: small
    iaas: sandbox
    master_instances: 1
    worker_instances: 2
    max_worker_instances: 5
    master_vm: { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384, persistent_disk_mb: 10240 }
    worker_vm: { cpu: 2, memory_mb: 8192, ephemeral_disk_mb: 32768, persistent_disk_mb: 20480 }
    kubernetes: { require_api: false }
`;

const home = mkdtempSync(join(tmpdir(), 'slipway-dashboard-'));
const state = join(home, 'state');
const artifacts = join(import.meta.dirname, 'artifacts');
let server: ServerProcess;
// playwright-core's types, without importing it where Chromium is absent.
let browser: import('playwright-core').Browser;

beforeAll(async () => {
  if (!available) return;
  writeFileSync(join(home, 'slipway.yaml'), CONFIG);
  server = await startServer({
    home: state,
    port: await freePort(),
    password: PASSWORD,
    config: join(home, 'slipway.yaml'),
  });
  const api = apiClient(server.url, join(state, 'ca.pem'));
  const token = await api.login('admin', PASSWORD);
  const viewer = await api.call('POST', '/v1/users', {
    token,
    body: { name: 'viewer', password: VIEWER_PASSWORD, roles: ['clusters.admin.read'] },
  });
  expect(viewer.status).toBe(201);
  const { chromium } = await import('playwright-core');
  // The flags keep a headless Chromium from reaching out to the network at start (this is a closed machine).
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  mkdirSync(artifacts, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(home, { recursive: true, force: true });
  rmSync(`${home}-keys`, { recursive: true, force: true });
});

/** A fresh page that trusts the control plane's self-signed serving certificate (its CA is this test's). */
async function openPage() {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
      errors.push(message.text());
  });
  // A failed request names its URL here (the console line does not).
  page.on('response', (response) => {
    if (response.status() >= 400)
      errors.push(`${response.status()} ${response.request().method()} ${new URL(response.url()).pathname}`);
  });
  return { page, errors, close: () => context.close() };
}

/**
 * page.goto, once more if Chromium reports ERR_NETWORK_CHANGED: it aborts a navigation when a network
 * interface appears on the host, which other tests do (the local driver's network namespaces add veths).
 */
async function goto(page: import('playwright-core').Page, url: string) {
  try {
    return await page.goto(url);
  } catch (error) {
    if (!/ERR_NETWORK_CHANGED/.test(String(error))) throw error;
    return page.goto(url);
  }
}

async function logIn(page: import('playwright-core').Page, user: string, password: string): Promise<void> {
  await goto(page, `${server.url}/ui/`);
  // Keyboard only: the user field has focus, Tab moves to the password, Enter submits.
  await page.getByLabel('User').waitFor();
  await page.keyboard.type(user);
  await page.keyboard.press('Tab');
  await page.keyboard.type(password);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Clusters', level: 1 }).waitFor();
}

describe.skipIf(!available)('the web dashboard in headless Chromium', () => {
  it('serves a small app with a strict content security policy', async () => {
    const { page, close } = await openPage();
    const main = await goto(page, `${server.url}/ui/`);
    expect(main!.headers()['content-security-policy']).toMatch(/script-src 'self'/);
    expect(main!.headers()['content-security-policy']).not.toMatch(/unsafe-inline/);
    const missing = await goto(page, `${server.url}/ui/..%2f..%2fpackage.json`);
    expect(missing!.status()).toBe(404);
    await close();
  });

  it('logs in, creates a cluster and watches its steps arrive live, then sees a killed VM come back', async () => {
    const { page, errors, close } = await openPage();
    await logIn(page, 'admin', PASSWORD);
    await page.evaluate(() => {
      (window as unknown as { loadedOnce: boolean }).loadedOnce = true;
    });

    await page.getByRole('button', { name: 'Create cluster' }).click();
    await page.getByLabel('Name', { exact: true }).fill('web1');
    await page.getByLabel('External hostname').fill('web1.example.test');
    await page.getByLabel('Workers', { exact: true }).fill('2');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.waitForURL(/#\/tasks\/\d+$/);

    // The progress label changes while the page sits still: the steps arrive without a reload.
    const seen = new Set<string>();
    const deadline = Date.now() + 60_000;
    for (;;) {
      const label = await page
        .locator('label[for="task-progress"]')
        .textContent()
        .catch(() => null);
      if (label) seen.add(label);
      const taskState = await page
        .locator('[data-task-state]')
        .getAttribute('data-task-state')
        .catch(() => null);
      if (taskState && ['done', 'error', 'cancelled', 'timeout'].includes(taskState)) break;
      if (Date.now() > deadline) throw new Error(`the task did not finish; labels seen: ${[...seen].join(' | ')}`);
      await page.waitForTimeout(50);
    }
    expect(await page.locator('[data-task-state]').getAttribute('data-task-state')).toBe('done');
    expect(seen.size, [...seen].join(' | ')).toBeGreaterThanOrEqual(3);
    expect(await page.evaluate(() => (window as unknown as { loadedOnce?: boolean }).loadedOnce)).toBe(true);
    expect(await page.locator('ol.steps li[data-state="done"]').count()).toBeGreaterThan(3);
    await page.screenshot({ path: join(artifacts, 'dashboard-task.png'), fullPage: true });

    await page.getByRole('link', { name: 'web1' }).click();
    const worker = page.locator('tr[data-instance="worker/0"]');
    await worker.waitFor();
    const vmBefore = await worker.locator('td[data-vm]').getAttribute('data-vm');
    expect(vmBefore).toBeTruthy();
    expect(await worker.locator('.badge').first().textContent()).toBe('running');
    await page.screenshot({ path: join(artifacts, 'dashboard-cluster.png'), fullPage: true });
    if (process.env.SLIPWAY_WRITE_DOCS === '1')
      await page.screenshot({ path: join(import.meta.dirname, '..', 'docs', 'images', 'dashboard.png') });

    page.once('dialog', (dialog) => void dialog.accept());
    await worker.getByRole('button', { name: 'Kill VM of worker/0' }).click();
    // The health monitor notices, the resurrector recreates the VM; the page shows it without a reload.
    await expect
      .poll(async () => worker.locator('td[data-vm]').getAttribute('data-vm'), { timeout: 45_000, interval: 200 })
      .not.toBe(vmBefore);
    await expect
      .poll(async () => worker.locator('.badge').first().textContent(), { timeout: 30_000, interval: 200 })
      .toBe('running');
    await expect.poll(async () => page.locator('ol.events').textContent(), { timeout: 10_000 }).toMatch(/worker\/0/);
    expect(await page.evaluate(() => (window as unknown as { loadedOnce?: boolean }).loadedOnce)).toBe(true);
    await page.screenshot({ path: join(artifacts, 'dashboard-resurrected.png'), fullPage: true });
    expect(errors).toEqual([]);
    await close();
  }, 150_000);

  it('shows a read-only user no button whose call would be refused', async () => {
    const { page, errors, close } = await openPage();
    await logIn(page, 'viewer', VIEWER_PASSWORD);
    await page.getByRole('link', { name: 'web1' }).waitFor();
    expect(await page.getByRole('button', { name: 'Create cluster' }).count()).toBe(0);
    await page.getByRole('link', { name: 'web1' }).click();
    await page.locator('tr[data-instance="worker/0"]').waitFor();
    const buttons = await page.getByRole('button').allTextContents();
    expect(buttons).toEqual(['Log out']);
    expect(errors).toEqual([]);
    await close();
  }, 60_000);

  it("refuses a wrong password with the API's message and keeps the form", async () => {
    const { page, close } = await openPage();
    await goto(page, `${server.url}/ui/`);
    await page.getByLabel('User').fill('admin');
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toMatch(/password|credentials|user/i);
    expect(await page.getByLabel('User').inputValue()).toBe('admin');
    await close();
  });
});
