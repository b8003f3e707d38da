// A wire-level fake OpenStack (Keystone, Nova, Cinder) in a process of its own, so the cloud outlives any
// control plane replica: prints one JSON line (the driver config, the credentials to import, the URL of its
// inventory) and runs until SIGTERM. Options as JSON in argv[2]: { latencyMs, buildMs }.
import { createServer } from 'node:http';
import { FAKE_BASE_IMAGE_ID, startFake } from '@slipway/iaas-openstack/fake';

const options = JSON.parse(process.argv[2] ?? '{}');
const fake = await startFake({ buildDelayMs: options.buildMs ?? 200 });
if (options.latencyMs) fake.faults.setLatency(options.latencyMs);

// What the test compares with the store: live servers and volumes, with their addresses.
const inventory = createServer((req, res) => {
  const instances = fake.state.liveServers().map((s) => ({
    id: s.id,
    state: s.status,
    ip: s.networks[0]?.ip ?? null,
    cluster: s.metadata['slipway.cluster'] ?? null,
  }));
  const volumes = [...fake.state.volumes.values()]
    .filter((v) => v.status !== 'deleting')
    .map((v) => ({ id: v.id, state: v.status }));
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ instances, volumes }));
});
await new Promise((resolve) => inventory.listen(0, '127.0.0.1', resolve));
const { port } = inventory.address();
process.stdout.write(
  `${JSON.stringify({ config: fake.config, credentials: fake.credentials ?? [], imageId: FAKE_BASE_IMAGE_ID, inventoryUrl: `http://127.0.0.1:${port}/` })}\n`,
);
const stop = async () => {
  inventory.close();
  await fake.stop();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
