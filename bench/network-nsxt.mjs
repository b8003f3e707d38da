// NSX-T network figures (compiled JS; `npx tsc -b` first): prepare, allocate, API endpoint and teardown per
// cluster against the zero-latency fake NSX Manager (Policy calls and wall time), and 20 clusters' network at once
// (prepare + 3 master addresses + API endpoint, as bench/network.mjs does on flat) on NSX-T vs flat.
import { randomUUID } from 'node:crypto';
import nsxt from '../network-drivers/nsxt/dist/src/index.js';
import { startFake } from '../network-drivers/nsxt/dist/fake/index.js';
import flat from '../network-drivers/flat/dist/index.js';
import { createTestHost } from '../core/testkit/dist/simulation.js';

const ROUNDS = 10;
const FLEET = 20;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (t0) => performance.now() - t0;

const fake = await startFake({ realizationDelayMs: 0 });
const host = await createTestHost({ credentials: fake.credentials });
const driver = await nsxt.create(fake.config, host);
const input = (id) => ({ clusterId: id, clusterName: id.slice(0, 8), iaas: 'vsphere' });

// Warm the connection pool and the JIT with one cluster we do not count.
const warm = randomUUID();
await driver.prepareCluster(input(warm));
await driver.teardownCluster({ clusterId: warm });

const figures = { prepare: [], teardown: [], allocate: [], endpoint: [] };
const calls = { prepare: {}, teardown: {}, allocate: {}, endpoint: {} };
const measure = async (name, fn) => {
  fake.resetCalls();
  const t0 = performance.now();
  await fn();
  figures[name].push(ms(t0));
  calls[name] = fake.callCounts();
};
for (let i = 0; i < ROUNDS; i++) {
  const id = randomUUID();
  await measure('prepare', () => driver.prepareCluster(input(id)));
  let ip;
  await measure('allocate', async () => {
    ip = (await driver.allocateAddress({ clusterId: id, owner: 'master-0', iaas: 'vsphere' })).ip;
  });
  await measure('endpoint', () => driver.ensureApiEndpoint({ clusterId: id, port: 8443, masters: [ip] }));
  await measure('teardown', () => driver.teardownCluster({ clusterId: id }));
}
const total = (c) => Object.values(c).reduce((a, b) => a + b, 0);
const describe = (c) =>
  Object.entries(c)
    .map(([op, n]) => `${op}×${n}`)
    .join(' ');
console.log(
  `NSX-T driver against the zero-latency fake (certificate auth, realization immediate), median of ${ROUNDS}:`,
);
for (const verb of ['prepare', 'allocate', 'endpoint', 'teardown']) {
  console.log(
    `  ${verb.padEnd(9)} ${median(figures[verb]).toFixed(1).padStart(7)} ms  ${String(total(calls[verb])).padStart(3)} calls  (${describe(calls[verb])})`,
  );
}

// 20 clusters' network at once: NSX-T (through the fake's one HTTPS endpoint) vs flat (a local file).
const ids = Array.from({ length: FLEET }, () => randomUUID());
const fleet = (net) =>
  Promise.all(
    ids.map(async (id) => {
      await net.prepareCluster(input(id));
      const masters = await Promise.all(
        [0, 1, 2].map(
          async (m) => (await net.allocateAddress({ clusterId: id, owner: `master-${m}`, iaas: 'vsphere' })).ip,
        ),
      );
      await net.ensureApiEndpoint({ clusterId: id, port: 8443, masters });
    }),
  );
fake.resetCalls();
let t0 = performance.now();
await fleet(driver);
const nsxtFleet = ms(t0);
const fleetCalls = fake.calls();
t0 = performance.now();
await Promise.all(ids.map((id) => driver.teardownCluster({ clusterId: id })));
const nsxtFleetDown = ms(t0);
const left = fake.inventory().length;

const flatHost = await createTestHost();
const flatDriver = await flat.create({ default_range: { cidr: '10.200.0.0/16' } }, flatHost);
t0 = performance.now();
await fleet(flatDriver);
const flatFleet = ms(t0);
console.log(`\n${FLEET} clusters' network at once (prepare + 3 master addresses + API endpoint):`);
console.log(
  `  NSX-T ${nsxtFleet.toFixed(0)} ms (${fleetCalls} Policy calls; teardown ${nsxtFleetDown.toFixed(0)} ms, ${left} objects left)`,
);
console.log(
  `  flat  ${flatFleet.toFixed(0)} ms (no load balancer)   ratio NSX-T/flat ${(nsxtFleet / flatFleet).toFixed(1)}x`,
);

await flatDriver.destroy();
await flatHost.cleanup();
await driver.destroy();
await host.cleanup();
await fake.stop();
