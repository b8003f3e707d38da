import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POD_ROUTE_PROTOCOL } from '@slipway/agent';
import { namespaceSupport, readInventory, VmNetworks } from '../src/index.js';
import { ensureBuilt } from './support.js';
// @ts-expect-error plain JavaScript shared with the benchmarks
import { startLocalControlPlane } from './local-control-plane.mjs';
import { join } from 'node:path';

const run = promisify(execFile);
const support = await namespaceSupport();
const PING = ['/usr/bin/ping', '/bin/ping'].find((p) => existsSync(p));
const skipReason = !support.available
  ? support.reason
  : !PING
    ? 'ping is not installed (apt-get install iputils-ping)'
    : undefined;

const ip = (...args: string[]) => run('ip', args);
/** One ping from `source` inside `namespace`: true when the echo came back. */
async function ping(namespace: string, source: string, target: string): Promise<boolean> {
  try {
    await run('ip', ['netns', 'exec', namespace, PING!, '-c1', '-W1', '-I', source, target]);
    return true;
  } catch {
    return false;
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Pods on different nodes reach each other through the routes the agents program: two local VMs, each in a
 * network namespace of its own on one bridge, each with its pod CIDR from the control plane. An address of
 * each node's pod CIDR stands for a pod; the ping between them goes through the agent's route, fails without
 * it, and works again once the agent has put it back.
 */
describe.skipIf(skipReason)(`a pod network across local VMs${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  // A subnet and a driver root of this run only: parallel runs get other bridges, veths and namespaces.
  const subnet = `10.${randomInt(64, 127)}.${randomInt(0, 255)}.0/24`;
  let cp: Awaited<ReturnType<typeof startLocalControlPlane>>;
  let networks: VmNetworks | undefined;

  beforeAll(async () => {
    ensureBuilt(['iaas-drivers/local']);
    cp = await startLocalControlPlane({
      masters: 1,
      workers: 1,
      heartbeatSeconds: 1,
      local: { network_namespaces: 'on', network_subnet: subnet },
      cidr: subnet,
    });
    networks = new VmNetworks(cp.root, subnet, cp.logger);
  }, 120_000);

  afterAll(async () => {
    try {
      await cp?.stop();
      await cp?.killAll();
    } finally {
      // Whatever the outcome, nothing of this run stays on the host: its namespaces, veths and bridge.
      if (networks) {
        const prefix = networks.namespaceOf('');
        for (const name of existsSync('/run/netns') ? readdirSync('/run/netns') : [])
          if (name.startsWith(prefix)) await ip('netns', 'del', name).catch(() => undefined);
        await networks.removeBridge();
        const left = (await ip('-o', 'link', 'show')).stdout.split('\n').filter((l) => l.includes(networks!.bridge));
        expect(left, 'the bridge and its veths are gone').toEqual([]);
        const namespaces = existsSync('/run/netns')
          ? readdirSync('/run/netns').filter((n) => n.startsWith(prefix))
          : [];
        expect(namespaces, 'the namespaces are gone').toEqual([]);
      }
    }
  }, 60_000);

  it("routes a pod on one VM to a pod on another through the agents' host routes, and the agent restores a deleted route", async () => {
    const created = await cp.createCluster('pods', { workers: 1 });
    const instances = (await cp.instances(created.uuid)) as Array<{
      group_name: string;
      idx: number;
      ip: string;
      vm_cid: string;
      pod_cidr: string;
    }>;
    expect(instances).toHaveLength(2);
    const inventory = readInventory(join(cp.root, 'state.json'));
    const [a, b] = instances.map((i) => {
      const vm = inventory.vms[i.vm_cid]!;
      expect(vm.namespace, `${i.group_name}-${i.idx} has a namespace`).toBeTruthy();
      expect(vm.ip).toBe(i.ip);
      // The pod's address: the first of the node's pod CIDR, on a bridge as a CNI bridge would hold it.
      return { ...i, ns: vm.namespace!, pod: i.pod_cidr.replace(/0\/24$/, '1') };
    }) as [(typeof instances)[0] & { ns: string; pod: string }, (typeof instances)[0] & { ns: string; pod: string }];
    expect(a.pod_cidr).not.toBe(b.pod_cidr);
    for (const node of [a, b]) {
      await ip('-n', node.ns, 'link', 'add', 'pods0', 'type', 'bridge');
      await ip('-n', node.ns, 'addr', 'add', `${node.pod}/24`, 'dev', 'pods0');
      await ip('-n', node.ns, 'link', 'set', 'pods0', 'up');
    }

    const routeTo = async (node: typeof a, cidr: string) => {
      const routes = JSON.parse(
        (await ip('-n', node.ns, '-4', '-j', 'route', 'show', 'proto', String(POD_ROUTE_PROTOCOL))).stdout || '[]',
      ) as Array<{ dst: string; gateway?: string }>;
      return routes.find((r) => r.dst === cidr);
    };
    // Each agent routes the other node's pod CIDR via that node's address.
    expect(await until('the route on A', () => routeTo(a, b.pod_cidr))).toMatchObject({ gateway: b.ip });
    expect(await until('the route on B', () => routeTo(b, a.pod_cidr))).toMatchObject({ gateway: a.ip });
    expect(await ping(a.ns, a.pod, b.pod), `ping ${a.pod} -> ${b.pod}`).toBe(true);

    await ip('-n', a.ns, 'route', 'del', b.pod_cidr);
    expect(await ping(a.ns, a.pod, b.pod), 'no route, no reply').toBe(false);

    // The agent checks its routes every heartbeat (1 s here) and puts the missing one back.
    expect(await until('the route put back', () => routeTo(a, b.pod_cidr), 30_000)).toMatchObject({ gateway: b.ip });
    expect(await ping(a.ns, a.pod, b.pod)).toBe(true);
  }, 300_000);
});
