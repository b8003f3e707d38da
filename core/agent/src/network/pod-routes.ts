import { SlipwayError, type Clock, type JobProperties, type Logger } from '@slipway/contracts';
import { linkSignals } from '../abort.js';
import type { CommandRunner } from '../persistent-disk.js';
import { sleepQuietly } from '../system-clock.js';

/**
 * The routing protocol number the agent marks its routes with (`ip route ... proto 173`; not in iproute2's
 * rt_protos). Routes are told apart by it: the agent lists, replaces and deletes only routes carrying it, so
 * routes of the image, DHCP, an operator or another CNI are never touched.
 */
export const POD_ROUTE_PROTOCOL = 173;

/** One route the agent wants: another node's pod CIDR via that node's address. */
export interface PodRoute {
  /** The pod CIDR (`10.200.3.0/24`). */
  dst: string;
  /** The node address it is reached through. */
  via: string;
  /** The node it belongs to, for logs. */
  node: string;
}

/** What one reconcile did. */
export interface RouteChanges {
  added: PodRoute[];
  replaced: PodRoute[];
  removed: Array<{ dst: string; via?: string }>;
  /** Routes wanted whose destination another owner's route already holds: left alone, and logged. */
  conflicts: Array<{ dst: string; protocol: string }>;
}

interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
}

/**
 * flannel's host-gw mode done by the agent: on a flat network (nodes on one L2 segment), each node routes every
 * other node's pod CIDR via that node's address. The wanted set comes from the desired state (the cluster's
 * node list); a reconcile adds what is missing, replaces what changed and removes stale routes it owns. It runs
 * on every change of the node list and every `intervalMs`, so a route deleted by hand comes back.
 *
 * Nothing is programmed when the network routes pod CIDRs itself (`podRouting` other than `host-routes`, e.g.
 * NSX-T), and nothing when the node's address is a loopback one: such a VM shares its host's network stack
 * (the local driver without network namespaces), whose routes are not the VM's to change.
 */
export class PodRouteReconciler {
  private wanted: WantedRoutes | undefined;
  private wantedKey = '';
  private running: Promise<void> | undefined;
  private readonly halt = new AbortController();
  private wake: AbortController | undefined;
  /** The wanted set changed since the reconcile in progress began. */
  private dirty = false;
  private skippedReason: string | undefined;
  private lastError: string | undefined;

  /** `run` is the agent's command seam (real `ip` on a VM; `ip netns exec NS ip` or a recording in tests). */
  constructor(private readonly deps: { run: CommandRunner; logger: Logger; clock: Clock; intervalMs?: number }) {}

  /** Takes the node list of a desired state; a change reconciles at once. */
  update(properties: JobProperties | undefined): void {
    const wanted = wantedRoutes(properties);
    if (!wanted) return;
    const key = JSON.stringify(wanted);
    if (key === this.wantedKey) return;
    this.wantedKey = key;
    this.wanted = wanted;
    this.dirty = true;
    this.wake?.abort();
  }

  /** Starts the reconcile loop (every `intervalMs`, default 30 s, and on every change). */
  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.halt.abort();
    this.wake?.abort();
    await this.running;
  }

  /**
   * Brings the routes the agent owns to the wanted set once. Returns what changed (undefined when nothing is
   * wanted yet or routing is not this agent's job here).
   */
  async reconcile(signal?: AbortSignal): Promise<RouteChanges | undefined> {
    const wanted = this.wanted;
    if (!wanted) return undefined;
    if (wanted.reason) {
      if (this.skippedReason !== wanted.reason)
        this.deps.logger.info('programming no pod routes', { reason: wanted.reason });
      this.skippedReason = wanted.reason;
      // The host's stack is not the VM's: not even a listing. A switch away from host routes (to the network's
      // or a CNI's own routing) removes those the agent made.
      return wanted.hostStack ? undefined : this.apply([], signal);
    }
    this.skippedReason = undefined;
    return this.apply(wanted.routes, signal);
  }

  private async ip(args: string[]): Promise<string> {
    const { code, stdout, stderr } = await this.deps.run('ip', args);
    if (code === 0) return stdout;
    const detail = stderr.trim() || `exit code ${code}`;
    throw new SlipwayError(
      code === 127 ? 'Unsupported' : 'Internal',
      `ip ${args.join(' ')}: ${code === 127 ? `iproute2 is not installed (${detail})` : detail}`,
    );
  }

  private async apply(routes: PodRoute[], signal?: AbortSignal): Promise<RouteChanges> {
    const table = JSON.parse(
      (await this.ip(['-4', '-j', 'route', 'show', 'table', 'main'])).trim() || '[]',
    ) as IpRoute[];
    const mine = new Map<string, IpRoute>();
    const others = new Map<string, IpRoute>();
    for (const route of table) (route.protocol === String(POD_ROUTE_PROTOCOL) ? mine : others).set(route.dst, route);
    const changes: RouteChanges = { added: [], replaced: [], removed: [], conflicts: [] };
    const wantedDsts = new Set(routes.map((r) => r.dst));
    for (const [dst, route] of mine) {
      if (wantedDsts.has(dst)) continue;
      if (signal?.aborted) return changes;
      await this.ip([
        '-4',
        'route',
        'del',
        dst,
        ...(route.gateway ? ['via', route.gateway] : []),
        'proto',
        String(POD_ROUTE_PROTOCOL),
      ]);
      changes.removed.push({ dst, ...(route.gateway ? { via: route.gateway } : {}) });
    }
    for (const route of routes) {
      const current = mine.get(route.dst);
      if (current?.gateway === route.via) continue;
      const foreign = others.get(route.dst);
      if (!current && foreign) {
        changes.conflicts.push({ dst: route.dst, protocol: foreign.protocol ?? 'boot' });
        continue;
      }
      if (signal?.aborted) return changes;
      await this.ip(['-4', 'route', 'replace', route.dst, 'via', route.via, 'proto', String(POD_ROUTE_PROTOCOL)]);
      (current ? changes.replaced : changes.added).push(route);
    }
    if (changes.added.length || changes.replaced.length || changes.removed.length) {
      this.deps.logger.info('pod routes reconciled', {
        added: changes.added.map(describe),
        replaced: changes.replaced.map(describe),
        removed: changes.removed.map((r) => r.dst),
      });
    }
    for (const conflict of changes.conflicts) {
      this.deps.logger.warn("a route to a node's pod CIDR exists that the agent did not make; leaving it", conflict);
    }
    return changes;
  }

  private async loop(): Promise<void> {
    const intervalMs = this.deps.intervalMs ?? 30_000;
    while (!this.halt.signal.aborted) {
      this.dirty = false;
      try {
        await this.reconcile(this.halt.signal);
        this.lastError = undefined;
      } catch (error) {
        if (this.halt.signal.aborted) return;
        const message = error instanceof Error ? error.message : String(error);
        // Logged once per distinct failure: a VM without iproute2 must not fill the log every 30 s.
        if (message !== this.lastError) this.deps.logger.error('could not program pod routes', { error: message });
        this.lastError = message;
      }
      if (this.dirty) continue;
      this.wake = new AbortController();
      const link = linkSignals(this.halt.signal, this.wake.signal);
      await sleepQuietly(this.deps.clock, intervalMs, link.signal);
      link.dispose();
    }
  }
}

/** The routes the desired state asks for, or why none; undefined when it carries no node list (an older control plane). */
export interface WantedRoutes {
  routes: PodRoute[];
  /** Why no route is wanted. */
  reason?: string;
  /** The VM shares its host's network stack: the agent must not touch its routes at all. */
  hostStack?: boolean;
}

export function wantedRoutes(properties: JobProperties | undefined): WantedRoutes | undefined {
  const cluster = properties?.cluster;
  const self = properties?.node;
  if (!cluster?.nodes || !self) return undefined;
  const routing = cluster.podRouting ?? 'host-routes';
  if (routing !== 'host-routes')
    return {
      routes: [],
      reason: `pod routing is ${routing === 'network-driver' ? 'done by the network driver' : 'left to the CNI'} (${routing})`,
    };
  if (isLoopback(self.ip))
    return {
      routes: [],
      hostStack: true,
      reason: `the node address ${self.ip} is a loopback one: this VM shares its host's network stack`,
    };
  const routes = cluster.nodes
    .filter((n) => n.name !== self.name && n.podCidr && n.ip && !isLoopback(n.ip) && n.podCidr !== self.podCidr)
    .map((n) => ({ dst: n.podCidr, via: n.ip, node: n.name }))
    .sort((a, b) => a.dst.localeCompare(b.dst));
  return { routes };
}

function isLoopback(ip: string): boolean {
  return ip.startsWith('127.');
}

function describe(route: PodRoute): string {
  return `${route.dst} via ${route.via} (${route.node})`;
}
