/**
 * Hierarchical Policy API (`PATCH /infra`): one body holding many objects, applied by NSX all or nothing.
 * Each object sits in a `Child<Type>` wrapper under its parent; a parent the body does not change (an existing
 * Tier-1, the floating IP pool, the `default` domain) appears as a `ChildResourceReference` by id.
 */

/** Path collection -> the wrapper's type name (`ChildTier1` holds `Tier1`). */
export const WRAPPER_OF_COLLECTION: Record<string, string> = {
  'tier-0s': 'Tier0',
  'tier-1s': 'Tier1',
  'locale-services': 'LocaleServices',
  'ip-pools': 'IpAddressPool',
  'ip-subnets': 'IpAddressPoolSubnet',
  'ip-allocations': 'IpAddressAllocation',
  'ip-blocks': 'IpAddressBlock',
  segments: 'Segment',
  nat: 'PolicyNat',
  'nat-rules': 'PolicyNatRule',
  'lb-services': 'LBService',
  'lb-pools': 'LBPool',
  'lb-virtual-servers': 'LBVirtualServer',
  'lb-monitor-profiles': 'LBMonitorProfile',
  domains: 'Domain',
  groups: 'Group',
  'security-policies': 'SecurityPolicy',
  rules: 'Rule',
};

export interface IntentObject {
  /** Full policy path, `/infra/...`. */
  path: string;
  body: Record<string, unknown>;
}

interface TreeNode {
  children: Array<Record<string, unknown>>;
}

export function buildInfraPatch(objects: IntentObject[]): Record<string, unknown> {
  const root: Record<string, unknown> & TreeNode = { resource_type: 'Infra', children: [] };
  const nodes = new Map<string, TreeNode>([['/infra', root]]);
  const own = new Map(objects.map((o) => [o.path, o]));
  const byDepth = [...objects].sort((a, b) => a.path.split('/').length - b.path.split('/').length);
  for (const object of byDepth) {
    const parts = object.path.split('/').slice(2);
    let prefix = '/infra';
    for (let i = 0; i + 1 < parts.length; i += 2) {
      const collection = parts[i]!;
      const id = parts[i + 1]!;
      const path = `${prefix}/${collection}/${id}`;
      const wrapper = WRAPPER_OF_COLLECTION[collection];
      if (!wrapper) throw new Error(`no hierarchical wrapper for ${collection} in ${object.path}`);
      if (!nodes.has(path)) {
        const parent = nodes.get(prefix)!;
        const intent = own.get(path);
        if (intent) {
          const inner: Record<string, unknown> & TreeNode = {
            resource_type: wrapper,
            ...intent.body,
            id,
            children: [],
          };
          parent.children.push({ resource_type: `Child${wrapper}`, [wrapper]: inner });
          nodes.set(path, inner);
        } else {
          const reference: Record<string, unknown> & TreeNode = {
            resource_type: 'ChildResourceReference',
            id,
            target_type: wrapper,
            children: [],
          };
          parent.children.push(reference);
          nodes.set(path, reference);
        }
      }
      prefix = path;
    }
  }
  prune(root);
  return root;
}

function prune(node: Record<string, unknown>): void {
  const children = node.children as Array<Record<string, unknown>> | undefined;
  if (!children) return;
  if (children.length === 0) {
    delete node.children;
    return;
  }
  for (const child of children) {
    const inner =
      child.resource_type === 'ChildResourceReference'
        ? child
        : (Object.values(child).find((v) => typeof v === 'object' && v !== null) as Record<string, unknown>);
    prune(inner);
  }
}
