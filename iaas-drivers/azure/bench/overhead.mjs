// Per-call overhead of the Azure driver against its zero-latency fake (figures, not pass/fail).
// Build first, then run:   npx tsc -b iaas-drivers/azure && node iaas-drivers/azure/bench/overhead.mjs [iterations]
//
// "raw" is one HTTPS GET of a VM with a bearer token over a keep-alive connection: the fake's own cost plus
// TLS and HTTP. The driver rows are whole contract verbs; "overhead" is a verb's median minus raw's median
// times the ARM requests the verb makes. Long-running verbs wait poll_interval_ms (1 here) before each poll,
// and those waits are part of their overhead.
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:https';
import { performance } from 'node:perf_hooks';
import { createTestHost } from '@slipway/testkit/simulation';
import plugin from '../dist/src/index.js';
import { FAKE_STEMCELL_BLOB, startFake } from '../dist/fake/index.js';

const iterations = Number(process.argv[2] ?? 1000);

const fake = await startFake({ bootAgents: false, provisionDelayMs: 0, transitionDelayMs: 0 });
const host = await createTestHost({ credentials: fake.credentials });
const driver = await plugin.create({ ...fake.config, poll_interval_ms: 1 }, host);
const { stemcellId } = await driver.createStemcell(
  { name: 'bench', version: '1', cloudProperties: { source_uri: FAKE_STEMCELL_BLOB } },
  { requestId: 'bench' },
);

const agent = new Agent({ keepAlive: true, ca: fake.caPem });
const token = await tokenOf();

let ip = 0;
const env = () => {
  ip += 1;
  return {
    agentId: `bench-${randomUUID()}`,
    clusterId: 'bench',
    instanceId: `w-${ip}`,
    group: 'worker',
    index: 0,
    controlPlane: { url: 'https://127.0.0.1:9', caPem: 'x' },
    bootstrap: { token: 'x', expiresAt: '2099-01-01T00:00:00.000Z' },
    network: { ip: `10.${20 + Math.floor(ip / 65000)}.${Math.floor(ip / 250) % 250}.${(ip % 250) + 4}` },
    heartbeatIntervalMs: 1000,
  };
};
const vmInput = () => {
  const settings = env();
  return {
    agentId: settings.agentId,
    stemcellId,
    resources: { cpu: 1, memoryMb: 512, ephemeralDiskMb: 0 },
    network: settings.network,
    env: settings,
  };
};

const { vmId } = await driver.createVm(vmInput(), { requestId: 'bench-vm' });
// The same read hasVm makes: the VM exists, ARM answers 200 with it.
const vmPath = `/subscriptions/${fake.state.subscriptionId}/resourceGroups/${fake.state.resourceGroup}/providers/Microsoft.Compute/virtualMachines/${vmId}?api-version=2024-07-01`;

const rows = [];
rows.push(await measure('raw HTTPS GET (baseline)', 1, iterations, () => rawGet()));
rows.push(await measure('hasVm', 1, iterations, () => driver.hasVm({ vmId })));
rows.push(
  await measure('setVmMetadata', 1, iterations, () =>
    driver.setVmMetadata({ vmId, metadata: { 'slipway.bench': String(Math.random()) } }),
  ),
);
// Disks_Get (404), _CreateOrUpdate, a poll, the final _Get; _Delete and a poll.
rows.push(
  await measure('createDisk + deleteDisk', 6, Math.ceil(iterations / 4), async () => {
    const { diskId } = await driver.createDisk({ sizeMb: 1024 }, { requestId: randomUUID() });
    await driver.deleteDisk({ diskId });
  }),
);
// Each: VirtualMachines_Get, _Update, an operation poll, the final _Get.
rows.push(
  await measure(
    'attachDisk + detachDisk',
    8,
    Math.ceil(iterations / 4),
    await (async () => {
      const { diskId } = await driver.createDisk({ sizeMb: 1024 }, { requestId: 'bench-disk' });
      return async () => {
        await driver.attachDisk({ vmId, diskId });
        await driver.detachDisk({ vmId, diskId });
      };
    })(),
  ),
);
// VirtualMachines_Get (404), NIC PUT, poll, NIC GET, VM PUT, poll, VM GET; VM DELETE, poll, NIC DELETE (204).
rows.push(
  await measure('createVm + deleteVm', 10, Math.ceil(iterations / 10), async () => {
    const created = await driver.createVm(vmInput(), { requestId: randomUUID() });
    await driver.deleteVm({ vmId: created.vmId });
  }),
);

const base = rows[0].median;
console.log(`\n${iterations} iterations (LRO verbs fewer), zero-latency fake, Node ${process.version}`);
console.log('verb'.padEnd(28), 'requests', 'median ms', '  p99 ms', ' overhead/median ms');
for (const row of rows) {
  const overhead = row === rows[0] ? '' : (row.median - base * row.requests).toFixed(3);
  console.log(
    row.name.padEnd(28),
    String(row.requests).padStart(8),
    row.median.toFixed(3).padStart(9),
    row.p99.toFixed(3).padStart(8),
    overhead.padStart(19),
  );
}

await driver.deleteVm({ vmId });
await driver.destroy();
agent.destroy();
await fake.stop();
await host.cleanup();

async function measure(name, requests, count, call) {
  for (let i = 0; i < Math.min(50, count); i++) await call();
  const samples = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await call();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return {
    name,
    requests,
    median: samples[Math.floor(samples.length / 2)],
    p99: samples[Math.min(samples.length - 1, Math.floor(samples.length * 0.99))],
  };
}

function rawGet() {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(vmPath, fake.url),
      { agent, headers: { authorization: `Bearer ${token}`, accept: 'application/json' } },
      (res) => {
        res.resume();
        res.on('end', resolve);
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function tokenOf() {
  const c = fake.credentials[0].value;
  const form = new URLSearchParams({
    client_id: c.client_id,
    client_secret: c.client_secret,
    scope: 'https://management.azure.com/.default',
    grant_type: 'client_credentials',
  }).toString();
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(`/${c.tenant_id}/oauth2/v2.0/token`, fake.url),
      { method: 'POST', agent, headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      (res) => {
        let text = '';
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => resolve(JSON.parse(text).access_token));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(form);
  });
}
