import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importCredentials, silentLogger } from '@slipway/engine';
import { FAKE_BASE_AMI_ID, startFake as startAws, type AwsFake } from '@slipway/iaas-aws/fake';
import { FAKE_BASE_IMAGE_ID, startFake as startOpenStack, type OpenStackFake } from '@slipway/iaas-openstack/fake';
import { apiClient, freePort, startServer, type ServerProcess } from './support/server.js';

const PASSWORD = 'multi-cloud-password';
const home = mkdtempSync(join(tmpdir(), 'slipway-multi-'));
let aws: AwsFake;
let openstack: OpenStackFake;
let server: ServerProcess;

const vm = { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384, persistent_disk_mb: 10240 };

beforeAll(async () => {
  [aws, openstack] = await Promise.all([startAws(), startOpenStack()]);
  const configPath = join(home, 'slipway.yaml');
  // Two clouds behind one control plane, each reached over its own wire protocol; plans pick the cloud.
  writeFileSync(
    configPath,
    JSON.stringify({
      iaas: [
        {
          name: 'aws-east',
          plugin: '@slipway/iaas-aws',
          version: '^1',
          config: aws.config,
          stemcell_cloud_properties: { ami_id: FAKE_BASE_AMI_ID },
        },
        {
          name: 'openstack-lab',
          plugin: '@slipway/iaas-openstack',
          version: '^1',
          config: openstack.config,
          stemcell_cloud_properties: { image_id: FAKE_BASE_IMAGE_ID },
        },
      ],
      network: {
        plugin: '@slipway/network-flat',
        config: { ranges: { 'aws-east': { cidr: '10.40.0.0/24' }, 'openstack-lab': { cidr: '192.168.50.0/24' } } },
      },
      agents: { heartbeat_interval_seconds: 1, boot_timeout_seconds: 60 },
      plans: [
        {
          name: 'on-aws',
          iaas: 'aws-east',
          master_instances: 1,
          worker_instances: 2,
          master_vm: { ...vm, instance_type: 'm5.large' },
          worker_vm: { ...vm, instance_type: 'm5.large' },
          kubernetes: { require_api: false },
        },
        {
          name: 'on-openstack',
          iaas: 'openstack-lab',
          master_instances: 1,
          worker_instances: 2,
          master_vm: { ...vm, instance_type: 'm1.medium' },
          worker_vm: { ...vm, instance_type: 'm1.medium' },
          kubernetes: { require_api: false },
        },
      ],
    }),
  );
  // The clouds' keys go into the credential store before the control plane starts its drivers.
  await importCredentials({
    home,
    configPath,
    logger: silentLogger,
    entries: [...(aws.credentials ?? []), ...(openstack.credentials ?? [])] as never,
  });
  server = await startServer({ home, port: await freePort(), password: PASSWORD, config: configPath });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await Promise.all([aws?.stop(), openstack?.stop()]);
  rmSync(home, { recursive: true, force: true });
  rmSync(`${home}-keys`, { recursive: true, force: true });
});

describe('one control plane, two clouds', () => {
  it('places each cluster on the cloud its plan names and says where it runs', async () => {
    const api = apiClient(server.url, join(home, 'ca.pem'));
    const token = await api.login('admin', PASSWORD);
    const targets = (await api.call('GET', '/v1/iaas', { token })).body as Array<{ name: string; plugin: string }>;
    expect(targets.map((t) => `${t.name}=${t.plugin}`)).toEqual([
      'aws-east=@slipway/iaas-aws',
      'openstack-lab=@slipway/iaas-openstack',
    ]);

    const [a, b] = await Promise.all([
      api.call('POST', '/v1/clusters', {
        token,
        body: { name: 'east', plan_name: 'on-aws', parameters: { kubernetes_master_host: 'east.example.test' } },
      }),
      api.call('POST', '/v1/clusters', {
        token,
        body: { name: 'lab', plan_name: 'on-openstack', parameters: { kubernetes_master_host: 'lab.example.test' } },
      }),
    ]);
    for (const created of [a, b]) {
      const deadline = Date.now() + 90_000;
      let task: any;
      do {
        await new Promise((r) => setTimeout(r, 100));
        task = (await api.call('GET', `/v1/tasks/${created.body.task_id}`, { token })).body;
      } while (['queued', 'processing'].includes(task.state) && Date.now() < deadline);
      expect(task.state, JSON.stringify(task.error)).toBe('done');
    }

    const east = (await api.call('GET', '/v1/clusters/east', { token })).body;
    const lab = (await api.call('GET', '/v1/clusters/lab', { token })).body;
    expect([east.iaas, lab.iaas]).toEqual(['aws-east', 'openstack-lab']);

    const running = [...aws.state.instances.values()].filter(
      (i) => i.state === 'running' && i.tags.get('slipway.cluster') === 'east',
    );
    expect(running.map((i) => i.tags.get('slipway.instance')).sort()).toEqual(['master/0', 'worker/0', 'worker/1']);
    expect(running.every((i) => i.privateIp?.startsWith('10.40.0.'))).toBe(true);
    const servers = openstack.state.liveServers().filter((s) => s.metadata['slipway.cluster'] === 'lab');
    expect(servers.map((s) => s.metadata['slipway.instance']).sort()).toEqual(['master/0', 'worker/0', 'worker/1']);
    // Neither cloud got the other's VMs.
    expect([...aws.state.instances.values()].some((i) => i.tags.get('slipway.cluster') === 'lab')).toBe(false);
    expect(openstack.state.liveServers().some((s) => s.metadata['slipway.cluster'] === 'east')).toBe(false);

    for (const name of ['east', 'lab']) {
      const del = await api.call('DELETE', `/v1/clusters/${name}`, { token });
      const deadline = Date.now() + 60_000;
      let task: any;
      do {
        await new Promise((r) => setTimeout(r, 100));
        task = (await api.call('GET', `/v1/tasks/${del.body.task_id}`, { token })).body;
      } while (['queued', 'processing'].includes(task.state) && Date.now() < deadline);
      expect(task.state, JSON.stringify(task.error)).toBe('done');
    }
    expect([...aws.state.instances.values()].filter((i) => i.state === 'running' || i.state === 'pending')).toEqual([]);
    expect(openstack.state.liveServers()).toEqual([]);
  }, 180_000);
});
