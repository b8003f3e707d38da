// A wire-level fake EC2 in a process of its own, so the cloud outlives any control plane replica: prints one
// JSON line (the driver config, the credentials to import, the URL of its inventory) and runs until SIGTERM.
// Options as JSON in argv[2]: { latencyMs, pendingMs }.
import { createServer } from 'node:http';
import { FAKE_BASE_AMI_ID, startFake } from '@slipway/iaas-aws/fake';

const options = JSON.parse(process.argv[2] ?? '{}');
const fake = await startFake({ pendingMs: options.pendingMs ?? 200, terminatedRetentionMs: 1000 });
if (options.latencyMs) fake.faults.setLatency(options.latencyMs);

// What the test compares with the store: live instances and volumes, with their tags and addresses.
const inventory = createServer((req, res) => {
  const instances = [...fake.state.instances.values()]
    .filter((i) => i.state === 'pending' || i.state === 'running' || i.state === 'stopping' || i.state === 'stopped')
    .map((i) => ({ id: i.id, state: i.state, ip: i.privateIp ?? null, cluster: i.tags.get('slipway.cluster') ?? null, instance: i.tags.get('slipway.instance') ?? null }));
  const volumes = [...fake.state.volumes.values()]
    .filter((v) => !v.launchVolume && v.state !== 'deleted' && v.state !== 'deleting')
    .map((v) => ({ id: v.id, state: v.state, tags: Object.fromEntries(v.tags ?? []) }));
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ instances, volumes }));
});
await new Promise((resolve) => inventory.listen(0, '127.0.0.1', resolve));
const { port } = inventory.address();
process.stdout.write(`${JSON.stringify({ config: fake.config, credentials: fake.credentials ?? [], amiId: FAKE_BASE_AMI_ID, inventoryUrl: `http://127.0.0.1:${port}/` })}\n`);
const stop = async () => {
  inventory.close();
  await fake.stop();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
