import { describe, expect, it } from 'vitest';
import type { JobProperties } from '@slipway/contracts';
import { createQuietLogger } from '@slipway/testkit/simulation';
import { PodRouteReconciler, POD_ROUTE_PROTOCOL, systemClock, type CommandRunner } from '../src/index.js';

/**
 * A main routing table behind iproute2's command line (`ip -4 -j route show table main`, `ip -4 route replace|del
 * DST via GW proto N`), answering as `ip` does, including its refusal to delete a route that is not there.
 */
function routeTable(initial: Array<{ dst: string; gateway?: string; protocol?: string }> = []) {
  const routes = new Map(initial.map((r) => [r.dst, { ...r }]));
  const calls: string[] = [];
  const run: CommandRunner = async (command, args) => {
    calls.push([command, ...args].join(' '));
    if (command !== 'ip') return { code: 127, stdout: '', stderr: `${command}: not found` };
    const line = args.join(' ');
    if (line === '-4 -j route show table main')
      return {
        code: 0,
        stdout: JSON.stringify([...routes.values()].map((r) => ({ ...r, dev: 'eth0', flags: [] }))),
        stderr: '',
      };
    const m = /^-4 route (replace|del) (\S+)(?: via (\S+))? proto (\d+)$/.exec(line);
    if (!m) return { code: 1, stdout: '', stderr: `unexpected: ip ${line}` };
    const [, verb, dst, via, proto] = m;
    if (verb === 'replace') {
      routes.set(dst!, { dst: dst!, gateway: via, protocol: proto });
      return { code: 0, stdout: '', stderr: '' };
    }
    const current = routes.get(dst!);
    if (!current || current.protocol !== proto)
      return { code: 2, stdout: '', stderr: 'RTNETLINK answers: No such process' };
    routes.delete(dst!);
    return { code: 0, stdout: '', stderr: '' };
  };
  return { routes, calls, run };
}

function properties(
  self: string,
  nodes: Array<[string, string, string]>,
  podRouting?: 'host-routes' | 'network-driver' | 'none',
): JobProperties {
  const me = nodes.find(([name]) => name === self)!;
  return {
    cluster: {
      nodes: nodes.map(([name, ip, podCidr]) => ({ name, ip, podCidr })),
      ...(podRouting ? { podRouting } : {}),
    } as JobProperties['cluster'],
    node: { name: me[0], ip: me[1], podCidr: me[2], group: 'worker', index: 0 },
  };
}

const own = String(POD_ROUTE_PROTOCOL);
const nodes: Array<[string, string, string]> = [
  ['master-0', '10.0.0.10', '10.200.0.0/24'],
  ['worker-0', '10.0.0.20', '10.200.1.0/24'],
  ['worker-1', '10.0.0.21', '10.200.2.0/24'],
];

describe("host routes to other nodes' pods (host-gw)", () => {
  it("routes every other node's pod CIDR via its address, marked as the agent's", async () => {
    const table = routeTable([{ dst: '10.0.0.0/24', protocol: 'kernel' }]);
    const reconciler = new PodRouteReconciler({ run: table.run, logger: createQuietLogger(), clock: systemClock });
    reconciler.update(properties('worker-0', nodes));
    const changes = await reconciler.reconcile();
    expect(changes?.added.map((r) => `${r.dst} via ${r.via}`)).toEqual([
      '10.200.0.0/24 via 10.0.0.10',
      '10.200.2.0/24 via 10.0.0.21',
    ]);
    expect(table.routes.get('10.200.0.0/24')).toEqual({ dst: '10.200.0.0/24', gateway: '10.0.0.10', protocol: own });
    expect(table.routes.has('10.200.1.0/24'), 'no route to its own pods').toBe(false);
    // A second pass changes nothing.
    expect(await reconciler.reconcile()).toEqual({ added: [], replaced: [], removed: [], conflicts: [] });
  });

  it("puts back a deleted route, replaces a moved node's, removes a gone node's, and never touches routes it did not make", async () => {
    const table = routeTable([
      { dst: '10.0.0.0/24', protocol: 'kernel' },
      { dst: '192.168.50.0/24', gateway: '10.0.0.1' },
      // An operator's route to a pod CIDR: reported, left alone.
      { dst: '10.200.2.0/24', gateway: '10.0.0.99', protocol: 'static' },
    ]);
    const reconciler = new PodRouteReconciler({ run: table.run, logger: createQuietLogger(), clock: systemClock });
    reconciler.update(properties('worker-0', [...nodes, ['worker-2', '10.0.0.22', '10.200.3.0/24']]));
    const first = await reconciler.reconcile();
    expect(first?.conflicts).toEqual([{ dst: '10.200.2.0/24', protocol: 'static' }]);
    expect(table.routes.get('10.200.2.0/24')?.gateway).toBe('10.0.0.99');

    table.routes.delete('10.200.0.0/24');
    expect((await reconciler.reconcile())?.added.map((r) => r.dst)).toEqual(['10.200.0.0/24']);

    // worker-2 is gone; master-0 came back on another address.
    reconciler.update(properties('worker-0', [['master-0', '10.0.0.11', '10.200.0.0/24'], nodes[1]!, nodes[2]!]));
    const changes = await reconciler.reconcile();
    expect(changes?.replaced.map((r) => `${r.dst} via ${r.via}`)).toEqual(['10.200.0.0/24 via 10.0.0.11']);
    expect(changes?.removed).toEqual([{ dst: '10.200.3.0/24', via: '10.0.0.22' }]);
    expect(table.routes.get('192.168.50.0/24')).toEqual({ dst: '192.168.50.0/24', gateway: '10.0.0.1' });
    expect(table.routes.get('10.0.0.0/24')).toEqual({ dst: '10.0.0.0/24', protocol: 'kernel' });
  });

  it('removes its routes when the network driver takes over pod routing, and programs none after', async () => {
    const table = routeTable();
    const reconciler = new PodRouteReconciler({ run: table.run, logger: createQuietLogger(), clock: systemClock });
    reconciler.update(properties('worker-0', nodes));
    await reconciler.reconcile();
    expect(table.routes.size).toBe(2);
    reconciler.update(properties('worker-0', nodes, 'network-driver'));
    expect((await reconciler.reconcile())?.removed.map((r) => r.dst).sort()).toEqual([
      '10.200.0.0/24',
      '10.200.2.0/24',
    ]);
    expect(table.routes.size).toBe(0);
  });

  it("runs no command at all on a VM that shares its host's network stack (a loopback address)", async () => {
    const table = routeTable();
    const reconciler = new PodRouteReconciler({ run: table.run, logger: createQuietLogger(), clock: systemClock });
    reconciler.update(
      properties('worker-0', [
        ['master-0', '127.0.64.2', '10.200.0.0/24'],
        ['worker-0', '127.0.64.3', '10.200.1.0/24'],
      ]),
    );
    expect(await reconciler.reconcile()).toBeUndefined();
    expect(table.calls).toEqual([]);
  });

  it('says which command failed and why when iproute2 is missing', async () => {
    const reconciler = new PodRouteReconciler({
      run: async () => ({ code: 127, stdout: '', stderr: 'spawn ip ENOENT' }),
      logger: createQuietLogger(),
      clock: systemClock,
    });
    reconciler.update(properties('worker-0', nodes));
    await expect(reconciler.reconcile()).rejects.toThrow(
      /ip -4 -j route show table main: iproute2 is not installed \(spawn ip ENOENT\)/,
    );
  });
});
