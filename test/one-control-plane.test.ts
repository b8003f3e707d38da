import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { apiClient, CLI, freePort, startServer, type ServerProcess } from './support/server.js';

const PASSWORD = 'one-home-admin-pw';
const root = mkdtempSync(join(tmpdir(), 'slipway-onehome-'));
const home = join(root, 'home');
// The cloud outlives the control plane's home and process: its inventory is outside the home.
const CONFIG = `
iaas:
  - name: sandbox
    plugin: "@slipway/iaas-sandbox"
    config: { state_file: ${JSON.stringify(join(root, 'cloud', 'sandbox.json'))}, boot_delay_ms: 20 }
network: { plugin: "@slipway/network-flat", config: { ranges: { sandbox: { cidr: 10.33.0.0/24 } } } }
agents: { heartbeat_interval_seconds: 0.3, boot_timeout_seconds: 30 }
health: { agent_timeout_seconds: 2, analyze_interval_seconds: 0.3, cloud_check_interval_seconds: 0.5 }
plans:
  - name: small
    iaas: sandbox
    master_instances: 1
    worker_instances: 1
    max_worker_instances: 3
    master_vm: { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384 }
    worker_vm: { cpu: 2, memory_mb: 8192, ephemeral_disk_mb: 32768 }
    kubernetes: { require_api: false }
`;
const servers: ServerProcess[] = [];

afterAll(async () => {
  for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) await s.stop();
  rmSync(root, { recursive: true, force: true });
});

/** `slipway up` expected to refuse: its exit code and output. */
async function upRefused(port: number): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [CLI, 'up', '--home', home, '--port', String(port)], {
    env: {
      ...process.env,
      SLIPWAY_ADMIN_PASSWORD: PASSWORD,
      SLIPWAY_HOME: '',
      SLIPWAY_CONFIG: '',
      SLIPWAY_PORT: '',
      SLIPWAY_KEYS: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => {
    output += c;
  });
  child.stderr.on('data', (c: Buffer) => {
    output += c;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  return { code, output };
}

interface Instance {
  name: string;
  vm_cid: string;
  state: string;
  last_heartbeat_at?: string | null;
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('one control plane per home, and agents that keep reaching it', () => {
  it("refuses a second up naming the first one's pid; after kill -9 of the first, a start on another port keeps every agent heartbeating", async () => {
    await import('node:fs').then((fs) => fs.mkdirSync(home, { recursive: true }));
    writeFileSync(join(home, 'slipway.yaml'), CONFIG);
    const firstPort = await freePort();
    const first = await startServer({ home, port: firstPort, password: PASSWORD });
    servers.push(first);

    const second = await upRefused(await freePort());
    expect(second.code).toBe(1);
    expect(second.output).toContain(`pid ${first.child.pid}`);
    expect(second.output).toMatch(/One control plane per home/);

    let api = apiClient(first.url, join(home, 'ca.pem'));
    let token = await api.login('admin', PASSWORD);
    const created = await api.call('POST', '/v1/clusters', {
      token,
      body: { name: 'steady', plan_name: 'small', parameters: { kubernetes_master_host: 'steady.example.test' } },
    });
    expect(created.status).toBe(202);
    await until(
      'the cluster created',
      async () => (await api.call('GET', `/v1/tasks/${created.body.task_id}`, { token })).body.state === 'done',
      60_000,
    );
    const before = (await api.call<Instance[]>('GET', '/v1/clusters/steady/instances', { token })).body;

    // kill -9: nothing runs on exit, the lock file stays on disk; the kernel drops the lock itself.
    await first.crash();
    const otherPort = await freePort();
    const restarted = await startServer({ home, port: otherPort, password: PASSWORD });
    servers.push(restarted);
    expect(restarted.url).toBe(`https://127.0.0.1:${otherPort}`);
    expect(restarted.output()).toMatch(new RegExp(`Agents dial:\\s+https://127\\.0\\.0\\.1:${firstPort}\\n`));

    api = apiClient(restarted.url, join(home, 'ca.pem'));
    token = await api.login('admin', PASSWORD);
    const restartedAt = new Date().toISOString();
    // Agents of the existing VMs boot again from their user data, which names the first port: they reach
    // this control plane there, heartbeat, and stay running past the agent timeout with no resurrection.
    await until('fresh heartbeats from every agent', async () => {
      const rows = (await api.call<Instance[]>('GET', '/v1/clusters/steady/instances', { token })).body;
      return rows.every((i) => i.state === 'running' && (i.last_heartbeat_at ?? '') > restartedAt) && rows;
    });
    await new Promise((r) => setTimeout(r, 3_000));
    const after = (await api.call<Instance[]>('GET', '/v1/clusters/steady/instances', { token })).body;
    expect(after.map((i) => `${i.name} ${i.vm_cid} ${i.state}`)).toEqual(
      before.map((i) => `${i.name} ${i.vm_cid} running`),
    );
    const tasks = (await api.call<Array<{ type: string }>>('GET', '/v1/tasks?cluster=steady', { token })).body;
    expect(tasks.map((t) => t.type)).toEqual(['CREATE']);

    // New VMs are told the same URL, which this control plane serves.
    const settings = readFileSync(join(home, 'slipway.pid'), 'utf8');
    expect(JSON.parse(settings).pid).toBe(restarted.child.pid);
  }, 180_000);
});
