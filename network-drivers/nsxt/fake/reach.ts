import { ipToInt, parseCidr } from '../src/ipv4.js';
import type { PolicyStore, StoredObject } from './store.js';

type Action = 'ALLOW' | 'DROP' | 'REJECT' | 'JUMP_TO_APPLICATION';

/**
 * What NSX's Traceflow would tell: whether a TCP packet from `from` reaches `to:port`. A VIP answers when its
 * virtual server lists the port and one pool member is admitted from the load balancer; any other packet passes
 * the distributed firewall twice, at the source's vNIC and at the destination's, each evaluating the rules
 * applied to that vNIC (policy or rule `scope`) by policy then rule sequence; the first match decides, and no
 * match falls through to the default rule, ALLOW.
 */
export function canReach(store: PolicyStore, from: string, to: string, port: number): boolean {
  const objects = [...store.objects.values()];
  const vs = objects.find((o) => o.path.startsWith('/infra/lb-virtual-servers/') && o.body.ip_address === to);
  if (vs) {
    const ports = (vs.body.ports as string[] | undefined) ?? [];
    if (vs.body.enabled === false || !ports.includes(String(port)) || typeof vs.body.pool_path !== 'string')
      return false;
    if (!store.get(String(vs.body.lb_service_path))) return false;
    const members =
      (store.get(vs.body.pool_path)?.body.members as Array<{ ip_address: string; port?: string }> | undefined) ?? [];
    // The LB's SNAT (automap) source belongs to no group: only the members' side of the firewall applies.
    return members.some((m) => side(store, objects, undefined, m.ip_address, Number(m.port ?? port)) === 'ALLOW');
  }
  return side(store, objects, from, to, port, from) === 'ALLOW' && side(store, objects, from, to, port, to) === 'ALLOW';
}

function side(
  store: PolicyStore,
  objects: StoredObject[],
  from: string | undefined,
  to: string,
  port: number,
  at = to,
): Action {
  const policies = objects
    .filter((o) => /^\/infra\/domains\/[^/]+\/security-policies\/[^/]+$/.test(o.path))
    .sort((a, b) => Number(a.body.sequence_number ?? 0) - Number(b.body.sequence_number ?? 0));
  for (const policy of policies) {
    const rules = store
      .children(policy.path, 'rules')
      .sort((a, b) => Number(a.body.sequence_number ?? 0) - Number(b.body.sequence_number ?? 0));
    for (const rule of rules) {
      if (rule.body.disabled === true) continue;
      const scope = (rule.body.scope as string[] | undefined)?.length
        ? (rule.body.scope as string[])
        : (policy.body.scope as string[] | undefined);
      if (!within(store, scope, at)) continue;
      if (
        from !== undefined
          ? !within(store, rule.body.source_groups as string[] | undefined, from)
          : !isAny(rule.body.source_groups as string[] | undefined)
      )
        continue;
      if (!within(store, rule.body.destination_groups as string[] | undefined, to)) continue;
      if (!serves(rule.body, port)) continue;
      return (rule.body.action as Action | undefined) ?? 'ALLOW';
    }
  }
  return 'ALLOW';
}

function isAny(list: string[] | undefined): boolean {
  return !list || list.length === 0 || list.includes('ANY');
}

function within(store: PolicyStore, list: string[] | undefined, ip: string): boolean {
  return isAny(list) || list!.some((path) => inGroup(store, path, ip, 0));
}

function inGroup(store: PolicyStore, path: string, ip: string, depth: number): boolean {
  const object = store.get(path);
  if (!object || depth > 5) return false;
  if (path.startsWith('/infra/segments/')) {
    return ((object.body.subnets as Array<{ gateway_address?: string }> | undefined) ?? []).some(
      (s) => s.gateway_address !== undefined && contains(s.gateway_address, ip),
    );
  }
  for (const expression of (object.body.expression as Array<Record<string, unknown>> | undefined) ?? []) {
    if (
      expression.resource_type === 'PathExpression' &&
      ((expression.paths as string[] | undefined) ?? []).some((p) => inGroup(store, p, ip, depth + 1))
    )
      return true;
    if (
      expression.resource_type === 'IPAddressExpression' &&
      ((expression.ip_addresses as string[] | undefined) ?? []).some((a) =>
        a.includes('/') ? contains(a, ip) : a === ip,
      )
    )
      return true;
  }
  return false;
}

/** A rule's services: `service_entries` (TCP destination ports) when given, else `services` (ANY). */
function serves(rule: Record<string, unknown>, port: number): boolean {
  const entries = rule.service_entries as Array<{ l4_protocol?: string; destination_ports?: string[] }> | undefined;
  if (entries?.length) {
    return entries.some(
      (e) =>
        (e.l4_protocol ?? 'TCP') === 'TCP' &&
        (e.destination_ports ?? []).some((p) => {
          const [low, high] = p.split('-').map(Number);
          return port >= low! && port <= (high ?? low!);
        }),
    );
  }
  return isAny(rule.services as string[] | undefined);
}

function contains(cidr: string, ip: string): boolean {
  const { base, size } = parseCidr(cidr);
  const value = ipToInt(ip);
  return value >= base && value < base + size;
}
