import { SlipwayError } from '@slipway/contracts';

/**
 * Per-node pod CIDRs. The control plane is their one source: each instance row gets a /24 of the cluster's
 * pod network when it is made, and the same value goes to the node's kubelet (`podCIDR`), its CNI
 * (host-local range) and every other node's route to it. kube-controller-manager runs with
 * `--allocate-node-cidrs=false`, so it cannot hand out a second, different answer.
 */

/** The prefix length of one node's share: 254 pods a node, 256 nodes in a /16 (Kubernetes' default node size). */
export const NODE_POD_PREFIX = 24;

/** The `index`th /24 of `podNetwork` (`10.200.0.0/16`, 3 → `10.200.3.0/24`). */
export function nodePodCidr(podNetwork: string, index: number): string {
  const { base } = parseCidr(podNetwork, 'pod network');
  const count = nodeCidrCount(podNetwork);
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new SlipwayError(
      'InvalidInput',
      `pod CIDR index ${index} is outside ${podNetwork} (${count} node ranges of /${NODE_POD_PREFIX})`,
    );
  }
  return `${toIp(base + index * 2 ** (32 - NODE_POD_PREFIX))}/${NODE_POD_PREFIX}`;
}

/** How many node ranges the pod network holds. */
export function nodeCidrCount(podNetwork: string): number {
  const { bits } = parseCidr(podNetwork, 'pod network');
  if (bits > NODE_POD_PREFIX)
    throw new SlipwayError(
      'InvalidInput',
      `pod network ${podNetwork} is smaller than one node's /${NODE_POD_PREFIX}; use a /16 to /${NODE_POD_PREFIX}`,
    );
  return 2 ** (NODE_POD_PREFIX - bits);
}

/**
 * The lowest node range of `podNetwork` that none of `taken` holds (a released range is reused first).
 * Fails with CapacityExhausted when every range is in use.
 */
export function nextFreePodCidr(podNetwork: string, taken: Iterable<string | null | undefined>): string {
  const used = new Set<string>();
  for (const cidr of taken) if (cidr) used.add(cidr);
  const count = nodeCidrCount(podNetwork);
  for (let index = 0; index < count; index++) {
    const cidr = nodePodCidr(podNetwork, index);
    if (!used.has(cidr)) return cidr;
  }
  throw new SlipwayError(
    'CapacityExhausted',
    `every /${NODE_POD_PREFIX} of the pod network ${podNetwork} is in use (${count} nodes); remove nodes or create the cluster with a larger pod network`,
  );
}

function parseCidr(cidr: string, what: string): { base: number; bits: number } {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const octets = match ? match.slice(1, 5).map(Number) : [];
  const bits = match ? Number(match[5]) : NaN;
  if (!match || octets.some((o) => o > 255) || bits > 32)
    throw new SlipwayError('InvalidInput', `${what} ${JSON.stringify(cidr)} is not an IPv4 CIDR such as 10.200.0.0/16`);
  const value = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - bits);
  return { base: value - (value % size), bits };
}

function toIp(value: number): string {
  return [
    Math.floor(value / 2 ** 24) % 256,
    Math.floor(value / 65536) % 256,
    Math.floor(value / 256) % 256,
    value % 256,
  ].join('.');
}
