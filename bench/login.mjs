// Login and body-limit figures (issue 11, items 4 and 5), against a real control plane in this process:
//  1. /oauth/token latency for an unknown user and for a known user with a wrong password (medians);
//  2. the process's RSS before and at its peak while four 100 MiB bodies are sent to /oauth/token.
// Run with `npm run bench -- login.mjs` (compiled JS); prints figures, asserts nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG_YAML } from '@slipway/engine';
import { startControlPlane } from '@slipway/api';
import { writeFileSync } from 'node:fs';
import { client, fmt, median } from './lib.mjs';

const SAMPLES = Number(process.env.BENCH_LOGIN_SAMPLES ?? 9);
const home = mkdtempSync(join(tmpdir(), 'slipway-bench-login-'));
// Limits high enough that the samples are not refused.
writeFileSync(
  join(home, 'slipway.yaml'),
  DEFAULT_CONFIG_YAML.replace(
    '  token_ttl_seconds: 43200\n',
    '  token_ttl_seconds: 43200\n  login_limits: { per_user: 1000, per_address: 1000, window_seconds: 60 }\n',
  ),
);
const cp = await startControlPlane({ home, port: 0, adminPassword: 'bench-password-1', env: {}, log: () => {} });
const ca = await readFile(cp.caPath);
const api = client(cp.url, ca);
try {
  const unknown = [];
  const wrong = [];
  const time = async (username) => {
    const started = performance.now();
    await api.call('POST', '/oauth/token', { form: { grant_type: 'password', username, password: 'not-it' } });
    return performance.now() - started;
  };
  for (let i = 0; i < SAMPLES; i++) {
    unknown.push(await time(`nobody-${i}`));
    wrong.push(await time('admin'));
  }
  console.log(
    `login, unknown user: median ${fmt(median(unknown))} ms; wrong password: median ${fmt(median(wrong))} ms (${SAMPLES} each)`,
  );

  const u = new URL(cp.url);
  const huge = () =>
    new Promise((resolve) => {
      const req = request({
        host: u.hostname,
        port: u.port,
        path: '/oauth/token',
        method: 'POST',
        ca,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': String(100 * 2 ** 20) },
      });
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      let sent = 0;
      let answered = false;
      const pump = () => {
        while (!answered && sent < 100 * 2 ** 20) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
      };
      req.on('response', (res) => {
        answered = true;
        res.resume();
        res.on('end', () => {
          req.destroy();
          resolve(res.statusCode);
        });
      });
      req.on('error', () => resolve('reset'));
      pump();
    });
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  const statuses = await Promise.all([huge(), huge(), huge(), huge()]);
  clearInterval(sampler);
  console.log(
    `four 100 MiB login bodies: answered ${statuses.join(', ')}; RSS ${fmt(before / 2 ** 20)} MiB before, ${fmt(peak / 2 ** 20)} MiB at the peak`,
  );
} finally {
  api.close();
  await cp.stop();
  rmSync(home, { recursive: true, force: true });
}
