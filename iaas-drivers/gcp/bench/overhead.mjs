// Per-call cost of the driver against the zero-latency fake, next to a bare fetch of the same request and
// to Google's own client: what the driver adds on top of one HTTP round trip on this machine.
// Figures, not pass/fail. Run from the repository root after building:
//   npx tsc -b iaas-drivers/gcp && node iaas-drivers/gcp/bench/overhead.mjs [iterations]
import { randomUUID } from 'node:crypto';
import { createTestHost } from '@slipway/testkit/simulation';
import plugin, { ServiceAccountTokens } from '../dist/src/index.js';
import { startFake } from '../dist/fake/index.js';

const N = Number(process.argv[2] ?? 1000);

async function measure(name, iterations, call) {
  for (let i = 0; i < Math.min(50, iterations); i++) await call(i); // warm-up: sockets, JIT, token
  const times = [];
  for (let i = 0; i < iterations; i++) {
    const started = process.hrtime.bigint();
    await call(i);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return summary(name, times);
}

async function interleaved(iterations, ...calls) {
  for (let i = 0; i < 50; i++) for (const [, call] of calls) await call(i);
  const times = calls.map(() => []);
  for (let i = 0; i < iterations; i++) {
    for (const [index, [, call]] of calls.entries()) {
      const started = process.hrtime.bigint();
      await call(i);
      times[index].push(Number(process.hrtime.bigint() - started) / 1e6);
    }
  }
  return calls.map(([name], index) => summary(name, times[index]));
}

function summary(name, times) {
  times.sort((a, b) => a - b);
  const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  return { name, iterations: times.length, median: at(0.5), p99: at(0.99) };
}

const fake = await startFake({
  bootAgents: false,
  pendingMs: 0,
  buildDelayMs: 0,
  transitionDelayMs: 0,
  imageDelayMs: 0,
});
const host = await createTestHost({ credentials: fake.credentials });
const driver = await plugin.create(fake.config, host);
const { stemcellId } = await driver.createStemcell({ name: 'bench', version: '1' }, { requestId: randomUUID() });
const env = (i) => ({
  agentId: `agent-${i}`,
  clusterId: 'bench',
  instanceId: `w-${i}`,
  group: 'worker',
  index: i,
  controlPlane: { url: 'https://127.0.0.1:9', caPem: 'CA' },
  bootstrap: { token: 'T', expiresAt: '2099-01-01T00:00:00.000Z' },
  network: { ip: `10.${Math.floor(i / 62500) % 250}.${Math.floor(i / 250) % 250}.${(i % 250) + 2}` },
  heartbeatIntervalMs: 1000,
});
let counter = 0;
const vmInput = () => {
  const e = env(counter++);
  return {
    agentId: e.agentId,
    stemcellId,
    resources: { cpu: 1, memoryMb: 512, ephemeralDiskMb: 0 },
    network: e.network,
    env: e,
    metadata: { 'slipway.cluster': 'bench' },
  };
};
const { vmId } = await driver.createVm(vmInput());
const [zone, name] = vmId.split('/');
const url = `${fake.url}/compute/v1/projects/${fake.project}/zones/${zone}/instances/${name}`;
const tokens = new ServiceAccountTokens(fake.serviceAccountKey, { now: () => Date.now(), sleep: async () => {} });

const bareGet = async () => {
  const token = await tokens.token();
  const response = await fetch(url, { headers: { authorization: `Bearer ${token.value}` } });
  await response.json();
};
// Interleaved, so that drift (JIT, GC, the other tenants of the machine) hits both alike.
const [bare, hasVm] = await interleaved(
  N,
  ['bare fetch GET instance', bareGet],
  ['hasVm (instances.get)', () => driver.hasVm({ vmId })],
);
const results = [bare, hasVm];
results.push(
  await measure('setVmMetadata (get + setLabels + wait)', Math.ceil(N / 4), (i) =>
    driver.setVmMetadata({ vmId, metadata: { 'slipway.bench': String(i) } }),
  ),
);
const created = [];
results.push(
  await measure('createVm (insert + wait + get)', Math.ceil(N / 4), async () => {
    created.push((await driver.createVm(vmInput(), { requestId: randomUUID() })).vmId);
  }),
);
results.push(
  await measure('deleteVm (delete + wait)', created.length - 50, async () => {
    await driver.deleteVm({ vmId: created.pop() });
  }),
);

try {
  const { InstancesClient } = await import('@google-cloud/compute');
  const { OAuth2Client } = await import('google-auth-library');
  const token = await tokens.token();
  const authClient = new OAuth2Client();
  authClient.setCredentials({ access_token: token.value, expiry_date: Date.now() + 3_000_000 });
  const client = new InstancesClient({
    apiEndpoint: '127.0.0.1',
    port: Number(new URL(fake.url).port),
    protocol: 'http',
    fallback: true,
    authClient,
  });
  results.push(
    await measure('@google-cloud/compute instances.get', N, () =>
      client.get({ project: fake.project, zone, instance: name }),
    ),
  );
  await client.close();
} catch (error) {
  console.error(`(official client not measured: ${error.message})`);
}

console.log(`node ${process.version}, ${N} iterations of the single-request calls; ms`);
console.log('call'.padEnd(42), 'median'.padStart(8), 'p99'.padStart(8));
for (const r of results) console.log(r.name.padEnd(42), r.median.toFixed(3).padStart(8), r.p99.toFixed(3).padStart(8));
console.log(
  `driver overhead on one request (hasVm - bare fetch): median ${(hasVm.median - bare.median).toFixed(3)} ms, p99 ${(hasVm.p99 - bare.p99).toFixed(3)} ms`,
);

await driver.destroy();
await fake.stop();
await host.cleanup();
