import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { apiClient, freePort, startServer, type ServerProcess } from './support/server.js';

const PASSWORD = 'crash-test-password';
// Slow enough calls that each step of a create outlasts a restart of the control plane (start and login), so a
// kill lands inside it.
const CONFIG = `
iaas:
  - name: sandbox
    plugin: "@slipway/iaas-sandbox"
    config: { boot_delay_ms: 2000, latency_ms: { default: 5, createVm: 400, createDisk: 200, attachDisk: 100 } }
network: { plugin: "@slipway/network-flat", config: { ranges: { sandbox: { cidr: 10.30.0.0/24 } } } }
agents: { heartbeat_interval_seconds: 1, boot_timeout_seconds: 60 }
plans:
  - name: ha
    iaas: sandbox
    master_instances: 3
    worker_instances: 4
    max_worker_instances: 10
    master_vm: { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384, persistent_disk_mb: 10240 }
    worker_vm: { cpu: 2, memory_mb: 8192, ephemeral_disk_mb: 32768, persistent_disk_mb: 20480 }
    kubernetes: { require_api: false }
`;

const home = mkdtempSync(join(tmpdir(), 'slipway-crash-'));
let server: ServerProcess | undefined;
afterAll(async () => {
  await server?.stop();
  rmSync(home, { recursive: true, force: true });
  rmSync(`${home}-keys`, { recursive: true, force: true });
});

interface Step {
  name: string;
  state: string;
  detail: string | null;
}

describe('kill -9 during a cluster create', () => {
  it('resumes after each crash and ends with exactly the planned VMs and disks, no orphans', async () => {
    const configPath = join(home, 'slipway.yaml');
    writeFileSync(configPath, CONFIG);
    const port = await freePort();
    server = await startServer({ home, port, password: PASSWORD, config: configPath });
    let api = apiClient(server.url, join(home, 'ca.pem'));
    let token = await api.login('admin', PASSWORD);
    const created = await api.call('POST', '/v1/clusters', {
      token,
      body: { name: 'crashy', plan_name: 'ha', parameters: { kubernetes_master_host: 'crashy.example.test' } },
    });
    expect(created.status).toBe(202);
    const taskId = created.body.task_id as number;

    // Kill the server while each of these steps is running, a little way into it.
    const killed: string[] = [];
    for (const [step, afterMs] of [
      ['credentials', 20],
      ['masters', 150],
      ['workers', 200],
      ['agents', 50],
    ] as const) {
      const deadline = Date.now() + 60_000;
      let steps: Step[] = [];
      for (;;) {
        steps = (await api.call('GET', `/v1/tasks/${taskId}`, { token })).body.steps;
        const state = steps.find((s) => s.name === step)?.state;
        if (state === 'running') break;
        if (state === 'done') break; // passed it while we looked: kill in whatever runs now
        if (Date.now() > deadline) throw new Error(`step ${step} never ran: ${JSON.stringify(steps)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      await new Promise((r) => setTimeout(r, afterMs));
      const running = (await api.call('GET', `/v1/tasks/${taskId}`, { token })).body.steps.find(
        (s: Step) => s.state === 'running',
      );
      killed.push(running ? `${running.name} (${running.detail ?? ''})` : 'between steps');
      await server.crash();
      server = await startServer({ home, port, password: PASSWORD, config: configPath });
      api = apiClient(server.url, join(home, 'ca.pem'));
      token = await api.login('admin', PASSWORD);
    }
    expect(killed).toHaveLength(4);

    const deadline = Date.now() + 90_000;
    let task: any;
    for (;;) {
      task = (await api.call('GET', `/v1/tasks/${taskId}`, { token })).body;
      if (!['queued', 'processing'].includes(task.state) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(task.state, `killed in: ${killed.join('; ')}\n${JSON.stringify(task.error)}`).toBe('done');

    expect(
      task.log.filter((l: { message: string }) => l.message.includes('resumed after a restart')).length,
    ).toBeGreaterThanOrEqual(3);

    const cluster = (await api.call('GET', '/v1/clusters/crashy', { token })).body;
    expect(cluster.last_action_state).toBe('succeeded');
    const instances = (await api.call('GET', '/v1/clusters/crashy/instances', { token })).body as Array<{
      name: string;
      vm_cid: string;
      state: string;
    }>;
    expect(instances.map((i) => i.name).sort()).toEqual([
      'master/0',
      'master/1',
      'master/2',
      'worker/0',
      'worker/1',
      'worker/2',
      'worker/3',
    ]);
    expect(instances.every((i) => i.state === 'running')).toBe(true);

    const inventory = (await api.call('GET', '/v1/sandbox/sandbox/inventory', { token })).body as {
      vms: Array<{ vmId: string; metadata: Record<string, string> }>;
      disks: Array<{ diskId: string; vmId?: string }>;
    };
    // The cloud holds exactly the VMs the store knows: none lost, none leaked by a crash.
    expect(inventory.vms.map((v) => v.vmId).sort()).toEqual(instances.map((i) => i.vm_cid).sort());
    expect(inventory.disks).toHaveLength(7);
    expect(inventory.disks.every((d) => instances.some((i) => i.vm_cid === d.vmId))).toBe(true);
    expect(new Set(inventory.disks.map((d) => d.vmId)).size).toBe(7);
  }, 240_000);
});
