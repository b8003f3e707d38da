// Dashboard figures (issue 17): first load size (bytes over the wire, requests) and time to interactive on
// loopback, cold and warm, in headless Chromium, against a real control plane in this process.
// Time to interactive: navigation start to the login form's user field having focus (the app's first
// render done); then login to the clusters table shown. Prints figures, asserts nothing.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane } from '@slipway/api';
import { fmt, median } from './lib.mjs';

const CHROMIUM = process.env.SLIPWAY_CHROMIUM ?? '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) {
  console.log(`dashboard: skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set SLIPWAY_CHROMIUM)`);
  process.exit(0);
}
const { chromium } = await import('playwright-core');
const RUNS = Number(process.env.BENCH_DASHBOARD_RUNS ?? 7);
const home = mkdtempSync(join(tmpdir(), 'slipway-bench-ui-'));
const cp = await startControlPlane({ home, port: 0, adminPassword: 'bench-password-1', env: {}, log: () => {} });
const browser = await chromium.launch({
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
try {
  const cold = [];
  const loggedIn = [];
  let bytes = 0;
  let requests = 0;
  for (let run = 0; run < RUNS; run++) {
    // A new context per run: an empty cache, as a first visit.
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    let runBytes = 0;
    let runRequests = 0;
    page.on('response', async (response) => {
      runRequests++;
      runBytes += Number((await response.allHeaders())['content-length'] ?? 0);
    });
    const started = performance.now();
    await page.goto(`${cp.url}/ui/`);
    await page.waitForFunction(() => document.activeElement?.getAttribute('name') === 'username');
    cold.push(performance.now() - started);
    bytes = runBytes;
    requests = runRequests;
    const loginStarted = performance.now();
    await page.fill('input[name=username]', 'admin');
    await page.fill('input[name=password]', 'bench-password-1');
    await page.press('input[name=password]', 'Enter');
    await page.getByRole('heading', { name: 'Clusters', level: 1 }).waitFor();
    await page.locator('#cluster-list table').waitFor();
    loggedIn.push(performance.now() - loginStarted);
    await context.close();
  }
  console.log(
    `dashboard first load: ${fmt(bytes / 1024)} KiB in ${requests} requests (uncompressed, every file of the app)`,
  );
  console.log(
    `time to interactive (login form focused), cold cache: median ${fmt(median(cold))} ms, max ${fmt(Math.max(...cold))} ms (${RUNS} runs)`,
  );
  console.log(`login to clusters table shown: median ${fmt(median(loggedIn))} ms (scrypt hashing included)`);
} finally {
  await browser.close();
  await cp.stop();
  rmSync(home, { recursive: true, force: true });
  rmSync(`${home}-keys`, { recursive: true, force: true });
}
