import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CLI, freePort, startServer, type ServerProcess } from './support/server.js';

const run = promisify(execFile);
const PASSWORD = 'e2e-admin-password';
const home = mkdtempSync(join(tmpdir(), 'slipway-e2e-'));
const kubeconfig = join(home, 'kube', 'config');
const env = { ...process.env, SLIPWAY_CLI_CONFIG: join(home, 'cli.json'), KUBECONFIG: kubeconfig, HOME: home };
let server: ServerProcess;

/** Runs the real CLI as a process; never throws, returns what a user sees. */
async function slipway(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

beforeAll(async () => {
  server = await startServer({ home: join(home, 'state'), port: await freePort(), password: PASSWORD });
}, 90_000);
afterAll(async () => {
  await server?.stop();
  rmSync(home, { recursive: true, force: true });
  rmSync(`${home}-keys`, { recursive: true, force: true });
});

describe("a developer's day with the real server and the real CLI", () => {
  it('logs in, creates, resizes, gets credentials for and deletes a cluster', async () => {
    const login = await slipway(
      'login',
      '-a',
      server.url,
      '-u',
      'admin',
      '-p',
      PASSWORD,
      '--ca-cert',
      join(home, 'state', 'ca.pem'),
    );
    expect(login.code, login.stderr).toBe(0);

    const plans = await slipway('plans', '--json');
    expect(JSON.parse(plans.stdout).map((p: { name: string }) => p.name)).toEqual(['small', 'ha']);

    const create = await slipway(
      'create-cluster',
      'demo',
      '--plan',
      'small',
      '--external-hostname',
      'demo.example.test',
      '--wait',
    );
    expect(create.code, create.stderr).toBe(0);
    expect(create.stdout + create.stderr).toMatch(/agents/);

    const list = await slipway('clusters');
    expect(list.stdout).toMatch(/demo\s+small/);
    const show = JSON.parse((await slipway('cluster', 'demo', '--json')).stdout);
    expect(show).toMatchObject({
      name: 'demo',
      plan_name: 'small',
      last_action: 'CREATE',
      last_action_state: 'succeeded',
      parameters: { kubernetes_worker_instances: 3 },
    });

    const resize = await slipway('resize', 'demo', '--num-nodes', '5', '--wait');
    expect(resize.code, resize.stderr).toBe(0);
    expect(JSON.parse((await slipway('cluster', 'demo', '--json')).stdout).parameters.kubernetes_worker_instances).toBe(
      5,
    );

    const creds = await slipway('get-credentials', 'demo');
    expect(creds.code, creds.stderr).toBe(0);
    const kc = parse(readFileSync(kubeconfig, 'utf8'));
    expect(kc['current-context']).toBe('demo');
    expect(kc.clusters.find((c: { name: string }) => c.name === 'demo').cluster.server).toBe(
      'https://demo.example.test:8443',
    );

    const tasks = JSON.parse((await slipway('tasks', '--json')).stdout);
    expect(tasks.slice(0, 2).map((t: { type: string; state: string }) => `${t.type}:${t.state}`)).toEqual([
      'UPDATE:done',
      'CREATE:done',
    ]);
    const task = await slipway('task', String(tasks[0].id));
    expect(task.stdout).toMatch(/drain|workers/);

    const del = await slipway('delete-cluster', 'demo', '--wait', '--non-interactive');
    expect(del.code, del.stderr).toBe(0);
    const gone = await slipway('cluster', 'demo');
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('cluster "demo" does not exist');
    expect(gone.stderr).not.toMatch(/\n\s+at /); // no stack trace

    expect((await slipway('logout')).code).toBe(0);
    const after = await slipway('clusters');
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/slipway login/);
  }, 120_000);

  it('exits 2 on bad usage, naming the flag', async () => {
    const res = await slipway('create-cluster', 'x', '--plan');
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/--plan/);
  });
});

describe('slipway up refuses to start on a bad config', () => {
  it('lists every problem, starts nothing and exits non-zero', async () => {
    const bad = join(home, 'bad.yaml');
    writeFileSync(
      bad,
      `
iaas: [{ name: sandbox, plugin: "@slipway/iaas-sandbox", config: { boot_delay_ms: "soon" } }]
network: { plugin: "@acme/slipway-network-nowhere", version: "^2" }
plans: [{ name: p, iaas: nowhere, master_instances: 2, worker_instances: 1, master_vm: { cpu: 1, memory_mb: 1024, ephemeral_disk_mb: 2048 }, worker_vm: { cpu: 1, memory_mb: 1024, ephemeral_disk_mb: 2048 } }]
`,
    );
    const res = await slipway('up', '--home', join(home, 'bad-home'), '--port', '0', '--config', bad);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('plans[0].master_instances: must be one of 1, 3, 5');
    const validate = await slipway('validate', bad);
    expect(validate.code).toBe(1);
    expect(validate.stdout + validate.stderr).toContain('plans[0].master_instances');
  });

  it('refuses a plugin problem after the schema passes, naming the plugin and the path', async () => {
    const bad = join(home, 'bad-plugin.yaml');
    writeFileSync(
      bad,
      `
iaas: [{ name: sandbox, plugin: "@slipway/iaas-sandbox", config: { boot_delay_ms: "soon" } }]
network: { plugin: "@acme/slipway-network-nowhere", version: "^2" }
plans: [{ name: p, iaas: sandbox, master_instances: 1, worker_instances: 1, master_vm: { cpu: 1, memory_mb: 1024, ephemeral_disk_mb: 2048 }, worker_vm: { cpu: 1, memory_mb: 1024, ephemeral_disk_mb: 2048 }, kubernetes: { require_api: false } }]
`,
    );
    const res = await slipway('up', '--home', join(home, 'bad-home-2'), '--port', '0', '--config', bad);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('iaas[0].config.boot_delay_ms: must be number (plugin @slipway/iaas-sandbox)');
    expect(res.stderr).toContain('network.plugin: @acme/slipway-network-nowhere is not installed');
    expect(res.stderr).not.toMatch(/ready at/);
  });
});
