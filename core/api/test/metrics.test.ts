import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_YAML } from '@slipway/engine';
import { ADMIN_PASSWORD, startTestControlPlane, type TestControlPlane } from './harness.js';

const SCRAPE_TOKEN = 'scrape-0123456789abcdef0123456789abcdef';
let t: TestControlPlane;
let home: string;
let admin: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'slipway-metrics-'));
  await writeFile(join(home, 'scrape-token'), `${SCRAPE_TOKEN}\n`, { mode: 0o600 });
  t = await startTestControlPlane({
    home,
    configYaml: `${DEFAULT_CONFIG_YAML}\nmetrics: { scrape_token_file: scrape-token }\n`,
  });
  admin = await t.login('admin', ADMIN_PASSWORD);
}, 60_000);
afterAll(async () => {
  await t?.stop();
  for (const dir of [home, `${home}-keys`]) if (dir) await rm(dir, { recursive: true, force: true });
});

/** The value of one sample, by metric name and exact labels (as Prometheus prints them). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const found = Object.fromEntries(
      [...(/\{(.*)\}/.exec(line)?.[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('GET /metrics', () => {
  it('tells after a create what a user looks for: the task succeeded, one createVm per VM, the instances running', async () => {
    const created = await t.call('POST', '/v1/clusters', {
      token: admin,
      body: {
        name: 'metered',
        plan_name: 'small',
        parameters: { kubernetes_master_host: 'metered.example.test', kubernetes_worker_instances: 1 },
      },
    });
    expect(created.status).toBe(202);
    expect((await t.waitTask(admin, created.body.task_id, 60_000)).state).toBe('done');
    const instances = (await t.call('GET', '/v1/clusters/metered/instances', { token: admin })).body as unknown[];

    const res = await t.call('GET', '/metrics', { token: SCRAPE_TOKEN });
    expect(res.status).toBe(200);
    expect(String(res.headers['content-type'])).toContain('text/plain');
    const text = res.body as string;
    expect(sample(text, 'slipway_tasks_total', { type: 'CREATE', state: 'succeeded' })).toBe(1);
    expect(
      sample(text, 'slipway_cloud_calls_total', {
        iaas: 'sandbox',
        driver: 'sandbox',
        verb: 'createVm',
        outcome: 'ok',
      }),
    ).toBe(instances.length);
    expect(sample(text, 'slipway_instances', { cluster: 'metered', state: 'running' })).toBe(instances.length);
    expect(sample(text, 'slipway_heartbeat_age_seconds', { cluster: 'metered', instance: 'master/0' })).toBeLessThan(
      120,
    );
    expect(sample(text, 'slipway_api_requests_total', { method: 'POST', route: '/v1/clusters', status: '202' })).toBe(
      1,
    );
    // Route patterns, never raw paths.
    expect(
      sample(text, 'slipway_api_requests_total', { method: 'GET', route: '/v1/tasks/:id', status: '200' }),
    ).toBeGreaterThan(0);
    expect(text).not.toMatch(/route="\/v1\/tasks\/\d+"/);
    expect(sample(text, 'slipway_task_step_duration_seconds_count', { step: 'masters', state: 'done' })).toBe(1);
    expect(sample(text, 'slipway_store_query_duration_seconds_count')).toBeGreaterThan(100);
    expect(
      sample(text, 'slipway_credential_operations_total', { operation: 'generate', result: 'success' }),
    ).toBeGreaterThan(0);
    // A fresh cluster's certificates last about a year (more than 300 days, less than 10 years).
    const expiry = sample(text, 'slipway_certificate_expiry_seconds', { cluster: 'metered' })!;
    expect(expiry / 86_400).toBeGreaterThan(300);
    expect(expiry / 86_400).toBeLessThan(3650);
  }, 120_000);

  it("answers an admin's token or the scrape token, nobody else", async () => {
    expect((await t.call('GET', '/metrics', { token: admin })).status).toBe(200);
    expect((await t.call('GET', '/metrics')).status).toBe(401);
    expect((await t.call('GET', '/metrics', { token: `${SCRAPE_TOKEN}x` })).status).toBe(401);
    expect(
      (
        await t.call('POST', '/v1/users', {
          token: admin,
          body: { name: 'tess', password: 'tess-password', roles: ['clusters.manage'] },
        })
      ).status,
    ).toBe(201);
    const tenant = await t.login('tess', 'tess-password');
    expect((await t.call('GET', '/metrics', { token: tenant })).status).toBe(403);
  });
});
