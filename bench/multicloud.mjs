// 20 clusters created at once across two clouds (AWS and OpenStack, each through its driver to its
// wire-level fake at zero latency), against the same 20 on the sandbox; wall time and the ratio.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane } from '@slipway/api';
import { importCredentials, silentLogger } from '@slipway/engine';
import { FAKE_BASE_AMI_ID, startFake as startAws } from '@slipway/iaas-aws/fake';
import { FAKE_BASE_IMAGE_ID, startFake as startOpenStack } from '@slipway/iaas-openstack/fake';
import { client, fmt } from './lib.mjs';

const CLUSTERS = Number(process.env.BENCH_CLUSTERS ?? 20);
const PASSWORD = 'bench-password-1';
const vm = { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384, persistent_disk_mb: 10240 };
const plan = (name, iaas) => ({
  name,
  iaas,
  master_instances: 1,
  worker_instances: 2,
  max_worker_instances: 10,
  master_vm: vm,
  worker_vm: vm,
  kubernetes: { require_api: false },
});

async function run(label, targets, credentials) {
  const home = mkdtempSync(join(tmpdir(), 'slipway-bench-mc-'));
  const configPath = join(home, 'slipway.yaml');
  writeFileSync(
    configPath,
    JSON.stringify({
      iaas: targets.map((t) => t.target),
      network: {
        plugin: '@slipway/network-flat',
        config: { ranges: Object.fromEntries(targets.map((t) => [t.target.name, { cidr: t.cidr }])) },
      },
      agents: { heartbeat_interval_seconds: 30, boot_timeout_seconds: 300 },
      plans: targets.map((t) => plan(`on-${t.target.name}`, t.target.name)),
    }),
  );
  if (credentials.length) await importCredentials({ home, configPath, logger: silentLogger, entries: credentials });
  const cp = await startControlPlane({ home, port: 0, adminPassword: PASSWORD, log: () => {}, env: {} });
  const api = client(cp.url, readFileSync(cp.caPath, 'utf8'));
  try {
    const token = await api.login('admin', PASSWORD);
    const t0 = performance.now();
    const created = await Promise.all(
      Array.from({ length: CLUSTERS }, (_, i) =>
        api.call('POST', '/v1/clusters', {
          token,
          body: {
            name: `c${i}`,
            plan_name: `on-${targets[i % targets.length].target.name}`,
            parameters: { kubernetes_master_host: `c${i}.example.test` },
          },
        }),
      ),
    );
    const tasks = await Promise.all(created.map((r) => api.waitTask(token, r.body.task_id)));
    const wall = (performance.now() - t0) / 1000;
    const failed = tasks.filter((t) => t.state !== 'done');
    console.log(
      `${label}: ${CLUSTERS} clusters x 3 VMs in ${fmt(wall, 2)} s${failed.length ? `, ${failed.length} failed: ${JSON.stringify(failed[0].error)}` : ''}`,
    );
    return wall;
  } finally {
    api.close();
    await cp.stop();
    rmSync(home, { recursive: true, force: true });
    rmSync(`${home}-keys`, { recursive: true, force: true });
  }
}

const [aws, openstack] = await Promise.all([startAws(), startOpenStack()]);
try {
  const clouds = await run(
    'aws + openstack (wire-level fakes)',
    [
      {
        target: {
          name: 'aws',
          plugin: '@slipway/iaas-aws',
          config: aws.config,
          stemcell_cloud_properties: { ami_id: FAKE_BASE_AMI_ID },
        },
        cidr: '10.40.0.0/24',
      },
      {
        target: {
          name: 'openstack',
          plugin: '@slipway/iaas-openstack',
          config: openstack.config,
          stemcell_cloud_properties: { image_id: FAKE_BASE_IMAGE_ID },
        },
        cidr: '192.168.50.0/24',
      },
    ],
    [...aws.credentials, ...openstack.credentials],
  );
  const sandbox = await run(
    'sandbox',
    [
      {
        target: { name: 'sandbox', plugin: '@slipway/iaas-sandbox', config: { boot_delay_ms: 0 } },
        cidr: '10.50.0.0/24',
      },
    ],
    [],
  );
  console.log(`ratio clouds / sandbox: ${fmt(clouds / sandbox, 2)}`);
} finally {
  await Promise.all([aws.stop(), openstack.stop()]);
}
