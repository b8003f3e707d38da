// The pod network on the local driver (compiled JS; `npx tsc -b` first):
// - a cluster of 3 masters and 2 workers created through the engine with every VM in a network namespace of
//   its own: wall time, and the time until every node's agent has routed every other node's pod CIDR;
// - the same create with VMs on loopback addresses (no namespaces), for comparison.
// Namespaces need root and `ip netns`; without them only the loopback figure is printed, and the script says so.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'iaas-drivers/local/dist/src/index.js');
if (!existsSync(dist)) {
  console.log('iaas-local is not built: run npx tsc -b first');
  process.exit(1);
}
const { namespaceSupport, readInventory, VmNetworks } = await import(dist);
const { startLocalControlPlane, randomNamespaceSubnet } = await import(
  join(root, 'iaas-drivers/local/test/local-control-plane.mjs')
);
const run = promisify(execFile);
const PROTO = '173';

async function create(label, options) {
  const cp = await startLocalControlPlane({ masters: 3, workers: 2, heartbeatSeconds: 2, ...options });
  const networks =
    options.local?.network_namespaces === 'on'
      ? new VmNetworks(cp.root, options.local.network_subnet, cp.logger)
      : undefined;
  try {
    const started = Date.now();
    const created = await cp.createCluster('bench', { workers: 2 });
    console.log(`${label}: cluster create, 3 masters + 2 workers: ${(created.wallMs / 1000).toFixed(2)} s wall`);
    for (const step of created.task.steps) {
      const ms = Date.parse(step.finished_at) - Date.parse(step.started_at);
      if (ms >= 500) console.log(`  step ${step.name.padEnd(14)} ${String(ms).padStart(6)} ms`);
    }
    if (!networks) return;
    // Until every VM holds a route to each of the 4 other nodes' pod CIDRs.
    const vms = Object.values(readInventory(join(cp.root, 'state.json')).vms);
    const deadline = Date.now() + 120_000;
    for (;;) {
      const counts = await Promise.all(
        vms.map(
          async (vm) =>
            JSON.parse(
              (await run('ip', ['-n', vm.namespace, '-4', '-j', 'route', 'show', 'proto', PROTO])).stdout || '[]',
            ).length,
        ),
      );
      if (counts.every((n) => n === vms.length - 1)) break;
      if (Date.now() > deadline) {
        console.log(`${label}: routes not complete within 120 s (${counts.join(', ')})`);
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    console.log(
      `${label}: create + every node routing every other node's pods: ${((Date.now() - started) / 1000).toFixed(2)} s wall`,
    );
  } finally {
    await cp.stop();
    await cp.killAll();
    if (networks) {
      const prefix = networks.namespaceOf('');
      for (const name of existsSync('/run/netns') ? readdirSync('/run/netns') : [])
        if (name.startsWith(prefix)) await run('ip', ['netns', 'del', name]).catch(() => undefined);
      await networks.removeBridge();
    }
  }
}

const support = await namespaceSupport();
if (support.available) {
  const subnet = randomNamespaceSubnet();
  await create('network namespaces on', { cidr: subnet, local: { network_namespaces: 'on', network_subnet: subnet } });
} else {
  console.log(`network namespaces on: not measured (${support.reason}); measuring with them off only`);
}
await create('network namespaces off (loopback addresses)', { local: { network_namespaces: 'off' } });
