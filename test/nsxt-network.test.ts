import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importCredentials, silentLogger } from '@slipway/engine';
import { randomUUID } from 'node:crypto';
import { createTestHost } from '@slipway/testkit/simulation';
import nsxtPlugin from '@slipway/network-nsxt';
import { startFake, type NsxtFake } from '@slipway/network-nsxt/fake';
import { apiClient, freePort, startServer, type ServerProcess } from './support/server.js';

const PASSWORD = 'nsxt-e2e-password';
const home = mkdtempSync(join(tmpdir(), 'slipway-nsxt-'));
let nsx: NsxtFake;
let server: ServerProcess;

const vm = { cpu: 1, memory_mb: 1024, ephemeral_disk_mb: 2048, persistent_disk_mb: 2048 };

beforeAll(async () => {
  // NSX Manager (the fake, over HTTPS with a principal identity) realizes each intent 20 ms after it is written.
  nsx = await startFake({ realizationDelayMs: 20 });
  const configPath = join(home, 'slipway.yaml');
  writeFileSync(
    configPath,
    JSON.stringify({
      iaas: [{ name: 'sandbox', plugin: '@slipway/iaas-sandbox', config: { boot_delay_ms: 20 } }],
      network: { plugin: '@slipway/network-nsxt', version: '^1', config: nsx.config },
      agents: { heartbeat_interval_seconds: 1, boot_timeout_seconds: 60 },
      plans: [
        {
          name: 'ha',
          iaas: 'sandbox',
          master_instances: 3,
          worker_instances: 1,
          master_vm: vm,
          worker_vm: vm,
          kubernetes: { require_api: false },
        },
      ],
    }),
  );
  await importCredentials({ home, configPath, logger: silentLogger, entries: nsx.credentials as never });
  server = await startServer({ home, port: await freePort(), password: PASSWORD, config: configPath });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await nsx?.stop();
  rmSync(home, { recursive: true, force: true });
});

async function waitTask(api: ReturnType<typeof apiClient>, token: string, id: string): Promise<any> {
  const deadline = Date.now() + 90_000;
  let task: any;
  do {
    await new Promise((r) => setTimeout(r, 100));
    task = (await api.call('GET', `/v1/tasks/${id}`, { token })).body;
  } while (['queued', 'processing'].includes(task.state) && Date.now() < deadline);
  return task;
}

describe('a cluster on NSX-T', () => {
  it("gets its own Tier-1, segment and load-balanced API VIP over its three masters, and leaves nothing in NSX when deleted; doctor finds and removes another's leftovers", async () => {
    const api = apiClient(server.url, join(home, 'ca.pem'));
    const token = await api.login('admin', PASSWORD);
    const created = await api.call('POST', '/v1/clusters', {
      token,
      body: { name: 'edge', plan_name: 'ha', parameters: { kubernetes_master_host: 'edge.example.test' } },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    const task = await waitTask(api, token, created.body.task_id);
    expect(task.state, JSON.stringify(task.error)).toBe('done');

    const cluster = (await api.call('GET', '/v1/clusters/edge', { token })).body;
    const tier1 = nsx
      .inventory()
      .find((o) => o.resource_type === 'Tier1' && o.tags.some((t) => t.tag === cluster.uuid));
    expect(tier1, 'the cluster has its Tier-1, tagged with its uuid').toBeDefined();
    const vs = nsx.inventory().find((o) => o.resource_type === 'LBVirtualServer' && o.path.endsWith('-api'))!;
    const vip = (nsx.object(vs.path) as { ip_address: string }).ip_address;
    const pool = nsx.object(vs.path.replace('lb-virtual-servers', 'lb-pools')) as {
      members: Array<{ ip_address: string; port: string }>;
    };
    // Kubernetes Master IP(s): the VIP first, then the masters, which are exactly the pool's members.
    expect(cluster.kubernetes_master_ips[0]).toBe(vip);
    expect(pool.members.map((m) => m.ip_address).sort()).toEqual(cluster.kubernetes_master_ips.slice(1).sort());
    expect(pool.members).toHaveLength(3);
    expect(pool.members.every((m) => m.port === '8443' && /^10\.100\.\d+\.\d+$/.test(m.ip_address))).toBe(true);

    // A cluster whose delete never reached the network (a store restored from an older backup): its objects are
    // leftovers that `slipway doctor --leftovers` lists by uuid and removes; the live cluster's are not.
    const gone = randomUUID();
    const host = await createTestHost({ credentials: nsx.credentials });
    const outside = await nsxtPlugin.create(nsx.config, host);
    await outside.prepareCluster({ clusterId: gone, clusterName: 'gone', iaas: 'sandbox' });
    await outside.destroy();
    await host.cleanup();
    const scan = (await api.call('GET', '/v1/network-leftovers', { token })).body as {
      supported: boolean;
      leftovers: Array<{ cluster_uuid: string; objects: unknown[] }>;
    };
    expect(scan.supported).toBe(true);
    expect(scan.leftovers.map((l) => l.cluster_uuid)).toEqual([gone]);
    expect(scan.leftovers[0]!.objects.length).toBeGreaterThan(10);
    expect((await api.call('DELETE', `/v1/network-leftovers/${gone}`, { token })).status).toBe(204);
    expect(nsx.inventory().filter((o) => o.tags.some((t) => t.tag === gone))).toEqual([]);

    const deleted = await api.call('DELETE', '/v1/clusters/edge', { token });
    expect((await waitTask(api, token, deleted.body.task_id)).state).toBe('done');
    expect(nsx.inventory(), 'every NSX object of the cluster is gone').toEqual([]);
  }, 180_000);
});
