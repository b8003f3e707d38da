import { intToIp, ipToInt, parseCidr } from '../src/ipv4.js';
import {
  NsxApiError,
  invalidReference,
  notFound,
  parentMissing,
  revisionRequired,
  staleRevision,
  stillReferenced,
} from './errors.js';

/** Resource type of an object by the collection its path names. */
const TYPE_OF_COLLECTION: Record<string, string> = {
  'tier-0s': 'Tier0',
  'tier-1s': 'Tier1',
  'locale-services': 'LocaleServices',
  'ip-pools': 'IpAddressPool',
  'ip-subnets': 'IpAddressPoolStaticSubnet',
  'ip-allocations': 'IpAddressAllocation',
  'ip-blocks': 'IpAddressBlock',
  segments: 'Segment',
  nat: 'PolicyNat',
  'nat-rules': 'PolicyNatRule',
  'lb-services': 'LBService',
  'lb-pools': 'LBPool',
  'lb-virtual-servers': 'LBVirtualServer',
  'lb-monitor-profiles': 'LBTcpMonitorProfile',
  'lb-app-profiles': 'LBFastTcpProfile',
  domains: 'Domain',
  groups: 'Group',
  'security-policies': 'SecurityPolicy',
  rules: 'Rule',
  sites: 'Site',
  'enforcement-points': 'EnforcementPoint',
  'edge-clusters': 'PolicyEdgeCluster',
  'transport-zones': 'PolicyTransportZone',
};
/** Wrapper names of the hierarchical API (`ChildTier1` holds `Tier1`), to collections. */
const COLLECTION_OF_WRAPPER: Record<string, string> = {
  Tier0: 'tier-0s',
  Tier1: 'tier-1s',
  LocaleServices: 'locale-services',
  IpAddressPool: 'ip-pools',
  IpAddressPoolSubnet: 'ip-subnets',
  IpAddressAllocation: 'ip-allocations',
  IpAddressBlock: 'ip-blocks',
  Segment: 'segments',
  PolicyNat: 'nat',
  PolicyNatRule: 'nat-rules',
  LBService: 'lb-services',
  LBPool: 'lb-pools',
  LBVirtualServer: 'lb-virtual-servers',
  LBMonitorProfile: 'lb-monitor-profiles',
  Domain: 'domains',
  Group: 'groups',
  SecurityPolicy: 'security-policies',
  Rule: 'rules',
};
const READ_ONLY = [
  '_revision',
  '_create_time',
  '_create_user',
  '_last_modified_time',
  '_last_modified_user',
  '_system_owned',
  '_protection',
  'path',
  'parent_path',
  'relative_path',
  'marked_for_delete',
  'children',
  'realization_id',
  'unique_id',
];

export interface StoredObject {
  path: string;
  body: Record<string, unknown>;
  revision: number;
  created: number;
  modified: number;
  seeded: boolean;
  realizeAt: number;
  realizationError?: string;
}

export interface Realizations {
  delayMs: number;
  /** Whether a realized automatic allocation shows its address in the intent too, or only in its realized state. */
  allocationIpInIntent: boolean;
  failures: Array<{ match: string | RegExp; message: string }>;
}

/** Parses `/infra/a/x/b/y` into its collection/id pairs; undefined when a collection is unknown. */
export function parsePath(path: string): Array<{ collection: string; id: string }> | undefined {
  const parts = path.split('/').filter(Boolean);
  if (parts[0] !== 'infra' || parts.length < 3 || parts.length % 2 === 0) return undefined;
  const pairs: Array<{ collection: string; id: string }> = [];
  for (let i = 1; i < parts.length; i += 2) {
    if (!TYPE_OF_COLLECTION[parts[i]!] || !/^[A-Za-z0-9_.-]+$/.test(parts[i + 1]!)) return undefined;
    pairs.push({ collection: parts[i]!, id: parts[i + 1]! });
  }
  return pairs;
}

export function parentOf(path: string): string {
  return path.split('/').slice(0, -2).join('/') || '/infra';
}

/**
 * The fake's intent store: Policy objects by path, with revisions, references between objects, NSX's
 * refusals (no child without its parent, no delete of what has children or is referenced), IPAM for IP
 * blocks and pools, and realization that completes after a delay or fails on demand.
 */
export class PolicyStore {
  readonly objects = new Map<string, StoredObject>();

  constructor(private readonly realizations: Realizations) {}

  seed(path: string, body: Record<string, unknown>): void {
    this.objects.set(path, this.stored(path, body, undefined, true));
  }

  get(path: string): StoredObject | undefined {
    return this.objects.get(path);
  }

  view(object: StoredObject): Record<string, unknown> {
    const pairs = parsePath(object.path)!;
    const last = pairs[pairs.length - 1]!;
    const parent = parentOf(object.path);
    const view: Record<string, unknown> = {
      resource_type: TYPE_OF_COLLECTION[last.collection],
      ...object.body,
      id: last.id,
      display_name: object.body.display_name ?? last.id,
      path: object.path,
      relative_path: last.id,
      parent_path: parent,
      marked_for_delete: false,
      _revision: object.revision,
      _create_time: object.created,
      _last_modified_time: object.modified,
      _create_user: 'admin',
      _last_modified_user: 'admin',
      _system_owned: false,
      _protection: 'NOT_PROTECTED',
    };
    if (
      view.resource_type === 'IpAddressAllocation' &&
      (this.realized(object) !== 'REALIZED' || !this.realizations.allocationIpInIntent)
    )
      delete view.allocation_ip;
    return view;
  }

  children(path: string, collection?: string): StoredObject[] {
    const prefix = `${path}/`;
    return [...this.objects.values()].filter(
      (o) =>
        o.path.startsWith(prefix) &&
        o.path.split('/').length === path.split('/').length + 2 &&
        (!collection || o.path.split('/').at(-2) === collection),
    );
  }

  /** PUT: create, or replace with the caller's `_revision` matching. */
  put(path: string, body: Record<string, unknown>): StoredObject {
    const existing = this.objects.get(path);
    if (existing) {
      if (body._revision === undefined) throw revisionRequired(path);
      if (body._revision !== existing.revision) throw staleRevision(path);
    }
    return this.commit([{ path, body, replace: true }])[0]!;
  }

  /** PATCH: create or merge; `_revision` is ignored. */
  patch(path: string, body: Record<string, unknown>): StoredObject {
    return this.commit([{ path, body, replace: false }])[0]!;
  }

  /** Hierarchical PATCH /infra: every object of the tree applied, or none. */
  patchTree(root: Record<string, unknown>): void {
    if (root.resource_type !== 'Infra')
      throw new NsxApiError(
        400,
        500095,
        `Hierarchical API root must be of resource_type Infra, not ${String(root.resource_type)}.`,
      );
    const writes: Array<{ path: string; body: Record<string, unknown>; replace: boolean; delete?: boolean }> = [];
    const walk = (parent: string, children: unknown): void => {
      if (children === undefined) return;
      if (!Array.isArray(children)) throw new NsxApiError(400, 500095, `children of ${parent} must be an array.`);
      for (const child of children as Array<Record<string, unknown>>) {
        const type = String(child.resource_type ?? '');
        if (type === 'ChildResourceReference') {
          const collection = COLLECTION_OF_WRAPPER[String(child.target_type)];
          if (!collection)
            throw new NsxApiError(
              400,
              500095,
              `Unknown target_type ${String(child.target_type)} in ChildResourceReference under ${parent}.`,
            );
          const path = `${parent}/${collection}/${String(child.id)}`;
          if (!this.objects.has(path) && !writes.some((w) => w.path === path)) throw notFound(path);
          walk(path, child.children);
          continue;
        }
        const wrapper = type.replace(/^Child/, '');
        const inner = child[wrapper] as Record<string, unknown> | undefined;
        const collection = COLLECTION_OF_WRAPPER[wrapper];
        if (!type.startsWith('Child') || !collection || !inner || typeof inner.id !== 'string') {
          throw new NsxApiError(400, 500095, `Unknown or malformed hierarchical child ${type} under ${parent}.`);
        }
        const path = `${parent}/${collection}/${inner.id}`;
        writes.push({
          path,
          body: inner,
          replace: false,
          delete: child.marked_for_delete === true || inner.marked_for_delete === true,
        });
        walk(path, inner.children);
      }
    };
    walk('/infra', root.children);
    this.commit(writes);
  }

  delete(path: string): void {
    const object = this.objects.get(path);
    if (!object) return;
    const blocking = [...this.objects.values()]
      .filter(
        (o) =>
          o.path !== path &&
          (o.path.startsWith(`${path}/`) ? !this.cascades(path, o.path) : references(o.body).includes(path)),
      )
      .map((o) => o.path);
    if (blocking.length) throw stillReferenced(path, blocking);
    for (const key of [...this.objects.keys()])
      if (key === path || key.startsWith(`${path}/`)) this.objects.delete(key);
  }

  realized(object: StoredObject): 'REALIZED' | 'IN_PROGRESS' | 'ERROR' {
    if (object.realizationError) return 'ERROR';
    return Date.now() >= object.realizeAt ? 'REALIZED' : 'IN_PROGRESS';
  }

  /** Applies writes to a copy; the copy replaces the store only when every write and reference checks out. */
  private commit(
    writes: Array<{ path: string; body: Record<string, unknown>; replace: boolean; delete?: boolean }>,
  ): StoredObject[] {
    const staged = new Map(this.objects);
    const written: StoredObject[] = [];
    const store = this.objects;
    (this as { objects: Map<string, StoredObject> }).objects = staged;
    try {
      for (const write of writes) {
        const pairs = parsePath(write.path);
        if (!pairs) throw notFound(write.path);
        if (write.delete) {
          this.delete(write.path);
          continue;
        }
        const parent = parentOf(write.path);
        if (parent !== '/infra' && !staged.has(parent)) throw parentMissing(write.path, parent);
        const existing = staged.get(write.path);
        const body = clean(write.replace || !existing ? write.body : { ...existing.body, ...clean(write.body) });
        const object = this.stored(write.path, body, existing, false);
        this.allocate(object, existing);
        staged.set(write.path, object);
        if (object.body.resource_type === 'Tier1' || pairs.at(-1)!.collection === 'tier-1s') {
          for (const section of ['USER', 'DEFAULT', 'INTERNAL']) {
            const nat = `${write.path}/nat/${section}`;
            if (!staged.has(nat))
              staged.set(nat, this.stored(nat, { id: section, nat_type: section }, undefined, false));
          }
        }
        written.push(object);
      }
      for (const object of written) {
        for (const target of references(object.body))
          if (!staged.has(target)) throw invalidReference(object.path, target);
      }
    } catch (error) {
      (this as { objects: Map<string, StoredObject> }).objects = store;
      throw error;
    }
    return written;
  }

  /** NAT sections and a policy's rules go with their parent; every other child must be deleted first. */
  private cascades(parent: string, child: string): boolean {
    const rest = child.slice(parent.length + 1).split('/');
    return rest[0] === 'rules' || (rest[0] === 'nat' && rest.length === 2);
  }

  private stored(
    path: string,
    body: Record<string, unknown>,
    existing: StoredObject | undefined,
    seeded: boolean,
  ): StoredObject {
    const now = Date.now();
    const failure = seeded
      ? undefined
      : this.realizations.failures.findIndex((f) =>
          typeof f.match === 'string' ? path === f.match : f.match.test(path),
        );
    const object: StoredObject = {
      path,
      body,
      seeded,
      revision: existing ? existing.revision + 1 : 0,
      created: existing?.created ?? now,
      modified: now,
      realizeAt: seeded ? 0 : now + this.realizations.delayMs,
    };
    if (failure !== undefined && failure >= 0) {
      object.realizationError = this.realizations.failures[failure]!.message;
      this.realizations.failures.splice(failure, 1);
    }
    return object;
  }

  /** IPAM: a block subnet gets the first free aligned CIDR of its block; an allocation the first free address of its pool. */
  private allocate(object: StoredObject, existing: StoredObject | undefined): void {
    const body = object.body;
    if (body.resource_type === 'IpAddressPoolBlockSubnet') {
      if (existing?.body.cidr) {
        if (existing.body.size !== body.size)
          throw new NsxApiError(400, 5139, `The size of block subnet ${object.path} cannot be changed.`);
        body.cidr = existing.body.cidr;
        return;
      }
      const block = this.objects.get(String(body.ip_block_path));
      if (!block) throw invalidReference(object.path, String(body.ip_block_path));
      const size = Number(body.size);
      if (!Number.isInteger(Math.log2(size)) || size < 4)
        throw new NsxApiError(400, 5139, `Subnet size ${String(body.size)} must be a power of 2 of at least 4.`);
      const range = parseCidr(String(block.body.cidr));
      const taken = new Set(
        [...this.objects.values()]
          .filter(
            (o) =>
              o.body.resource_type === 'IpAddressPoolBlockSubnet' &&
              o.body.ip_block_path === body.ip_block_path &&
              o.body.cidr,
          )
          .map((o) => parseCidr(String(o.body.cidr)).base),
      );
      for (let base = range.base; base + size <= range.base + range.size; base += size) {
        if (!taken.has(base)) {
          body.cidr = `${intToIp(base)}/${32 - Math.log2(size)}`;
          return;
        }
      }
      throw new NsxApiError(
        400,
        5142,
        `IP block ${String(body.ip_block_path)} is exhausted: no free subnet of size ${size}.`,
      );
    }
    if (parsePath(object.path)!.at(-1)!.collection === 'ip-allocations') {
      if (existing?.body.allocation_ip) {
        body.allocation_ip = existing.body.allocation_ip;
        return;
      }
      const pool = parentOf(object.path);
      const used = new Set(
        this.children(pool, 'ip-allocations')
          .filter((o) => o.path !== object.path)
          .map((o) => String(o.body.allocation_ip)),
      );
      for (const subnet of this.children(pool, 'ip-subnets')) {
        for (const candidate of hostsOf(subnet.body)) {
          if (!used.has(candidate)) {
            body.allocation_ip = candidate;
            return;
          }
        }
      }
      throw new NsxApiError(
        400,
        5141,
        `IP Pool ${pool} is exhausted: no free IP address to allocate for ${object.path}.`,
      );
    }
  }
}

function hostsOf(subnet: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (subnet.resource_type === 'IpAddressPoolStaticSubnet') {
    for (const range of (subnet.allocation_ranges as Array<{ start: string; end: string }> | undefined) ?? []) {
      for (let ip = ipToInt(range.start); ip <= ipToInt(range.end); ip++) out.push(intToIp(ip));
    }
  } else if (subnet.cidr) {
    const { base, size } = parseCidr(String(subnet.cidr));
    for (let ip = base + 1; ip < base + size - 1; ip++) out.push(intToIp(ip));
  }
  return out;
}

/** Strips read-only fields a caller may echo back from a GET. */
function clean(body: Record<string, unknown>): Record<string, unknown> {
  const out = { ...body };
  for (const key of READ_ONLY) delete out[key];
  return out;
}

/** Every policy path an object's fields point at (connectivity_path, pool_path, groups, expressions...). */
export function references(body: unknown, out: string[] = []): string[] {
  if (typeof body === 'string') {
    if (body.startsWith('/infra/')) out.push(body);
  } else if (Array.isArray(body)) {
    for (const item of body) references(item, out);
  } else if (body && typeof body === 'object') {
    for (const [key, value] of Object.entries(body)) if (!READ_ONLY.includes(key)) references(value, out);
  }
  return out;
}
