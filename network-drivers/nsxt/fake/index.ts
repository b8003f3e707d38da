import { randomBytes } from 'node:crypto';
import type { NsxtAuthMode, NsxtConfig } from '../src/config.js';
import { FaultPlan, type InjectedError } from './faults.js';
import { canReach } from './reach.js';
import { FakeNsxServer, type FakeContext } from './server.js';
import { PolicyStore, type Realizations } from './store.js';
import { createFakeTls } from './tls.js';

export type { InjectedError } from './faults.js';
export { OPERATION_OF_VERB } from './faults.js';
export { operationOf } from './server.js';

export const FAKE_USER_REF = '/slipway/network/nsxt-admin';
export const FAKE_PRINCIPAL_REF = '/slipway/network/nsxt-principal';
export const FAKE_TIER0 = '/infra/tier-0s/t0-slipway';
export const FAKE_IP_BLOCK = '/infra/ip-blocks/slipway-nodes';
export const FAKE_FLOATING_POOL = '/infra/ip-pools/slipway-floating';
export const FAKE_EDGE_CLUSTER = '/infra/sites/default/enforcement-points/default/edge-clusters/edge-cluster-1';
export const FAKE_TRANSPORT_ZONE = '/infra/sites/default/enforcement-points/default/transport-zones/overlay-tz';

export interface FakeNsxtOptions {
  /** How long NSX takes to realize an intent, ms. Default 0. */
  realizationDelayMs?: number;
  /** The auth mode the returned config uses. Default certificate (a principal identity, as TKGI). */
  auth?: NsxtAuthMode;
  /** CIDR of the Nodes IP Block. Default 10.100.0.0/16. */
  nodesBlockCidr?: string;
  /** CIDR of the Floating IP Pool. Default 172.30.0.0/22. */
  floatingCidr?: string;
  /** Show a realized automatic allocation's address in the intent (true, default) or only in its realized state. */
  allocationIpInIntent?: boolean;
  /** `Retry-After` of the fake's 429s, in seconds. Default 1. */
  retryAfterSeconds?: number;
  port?: number;
}

/** One object of the fake's inventory. */
export interface FakeObject {
  path: string;
  resource_type: string;
  tags: Array<{ scope: string; tag: string }>;
  revision: number;
}

/** Fault knobs by Policy operation (`patchInfra`, `putLbPool`...) or by network contract verb (mapped to its first write). */
export interface NsxtFakeFaults {
  throttleNext(operationOrVerb: string, count?: number): void;
  serverErrorNext(operationOrVerb: string, count?: number): void;
  /** A permanent 400 with a recognisable message (returned). */
  permanentErrorNext(operationOrVerb: string, count?: number): string;
  setFaultRates(rates: { throttle?: number; serverError?: number }): void;
  setLatency(ms: number): void;
  reset(): void;
}

export interface NsxtFake {
  readonly url: string;
  readonly config: NsxtConfig;
  readonly credentials: Array<{ name: string; type: 'user' | 'certificate'; value: unknown }>;
  readonly faults: NsxtFakeFaults;
  /** The CA of the fake's serving certificate (also in config.ca_certificate). */
  readonly caPem: string;
  /** The next `count` requests of an operation fail with `error`. */
  failNext(operationOrVerb: string, error: InjectedError, count?: number): void;
  /** The next write of a path (or of paths matching) realizes to ERROR with `message`. */
  failRealization(match: string | RegExp, message: string): void;
  setRealizationDelay(ms: number): void;
  /** Forgets every session, as NSX's idle timeout or a manager restart does: the next session call gets 403. */
  expireSessions(): void;
  /** After the next GET of `path`, another writer updates it: a PUT with the revision that GET returned is stale (412). */
  writeAfterNextRead(path: string): void;
  /** The LB's monitor sees this member (`ip` or `ip:port`) DOWN, or UP again. */
  setMemberHealth(member: string, state: 'UP' | 'DOWN'): void;
  /** Traceflow: whether NSX, as configured now, lets a TCP packet from `from` reach `to:port` (firewall rules, VIPs). */
  canReach(from: string, to: string, port: number): Promise<boolean>;
  /** Every object the fake holds but its seeds (the Tier-0, the IP block and pool, the domain...). */
  inventory(): FakeObject[];
  /** One object as the Policy API would show it. */
  object(path: string): Record<string, unknown> | undefined;
  /** Requests received, of one operation or in total. */
  calls(operation?: string): number;
  /** Requests received, by operation. */
  callCounts(): Record<string, number>;
  resetCalls(): void;
  stop(): Promise<void>;
}

/** Starts a wire-level fake of NSX Manager's Policy API on https://127.0.0.1. */
export async function startFake(options: FakeNsxtOptions = {}): Promise<NsxtFake> {
  const realizations: Realizations = {
    delayMs: options.realizationDelayMs ?? 0,
    failures: [],
    allocationIpInIntent: options.allocationIpInIntent ?? true,
  };
  const store = new PolicyStore(realizations);
  seed(store, options);
  const user = { username: 'admin', password: randomBytes(12).toString('base64url') };
  const tls = await createFakeTls('slipway-pi');
  const plan = new FaultPlan();
  plan.retryAfterSeconds = options.retryAfterSeconds ?? 1;
  const ctx: FakeContext = {
    store,
    faults: plan,
    user,
    principalName: tls.principal.name,
    sessions: new Map(),
    calls: new Map(),
    writeAfterRead: new Set(),
    downMembers: new Set(),
  };
  const server = await FakeNsxServer.start(ctx, tls, options.port);
  const auth = options.auth ?? 'certificate';

  return {
    url: server.url,
    caPem: tls.caPem,
    config: {
      manager_url: server.url,
      auth,
      credentials_ref: auth === 'certificate' ? FAKE_PRINCIPAL_REF : FAKE_USER_REF,
      ca_certificate: tls.caPem,
      tier0_path: FAKE_TIER0,
      edge_cluster_path: FAKE_EDGE_CLUSTER,
      transport_zone_path: FAKE_TRANSPORT_ZONE,
      nodes_ip_block_path: FAKE_IP_BLOCK,
      floating_ip_pool_path: FAKE_FLOATING_POOL,
      poll_interval_ms: 10,
      realization_timeout_ms: 5000,
    },
    credentials: [
      { name: FAKE_USER_REF, type: 'user', value: user },
      {
        name: FAKE_PRINCIPAL_REF,
        type: 'certificate',
        value: { ca: tls.caPem, certificate: tls.principal.certPem, private_key: tls.principal.keyPem },
      },
    ],
    faults: {
      throttleNext: (op, count = 1) => plan.throttle(op, count),
      serverErrorNext: (op, count = 1) => plan.serverError(op, count),
      permanentErrorNext: (op, count = 1) => {
        const message = 'Invalid value for field [display_name]: contains characters that are not allowed.';
        plan.injected(op, { status: 400, errorCode: 255, message }, count);
        return message;
      },
      setFaultRates: (rates) => plan.setRates(rates),
      setLatency: (ms) => {
        plan.latencyMs = ms;
      },
      reset: () => {
        plan.reset();
        realizations.failures.length = 0;
        ctx.downMembers.clear();
      },
    },
    failNext: (op, error, count = 1) => plan.injected(op, error, count),
    failRealization: (match, message) => {
      realizations.failures.push({ match, message });
    },
    setRealizationDelay: (ms) => {
      realizations.delayMs = ms;
    },
    expireSessions: () => ctx.sessions.clear(),
    writeAfterNextRead: (path) => {
      ctx.writeAfterRead.add(path);
    },
    setMemberHealth: (member, state) => {
      if (state === 'DOWN') ctx.downMembers.add(member);
      else ctx.downMembers.delete(member);
    },
    canReach: async (from, to, port) => canReach(store, from, to, port),
    inventory: () =>
      [...store.objects.values()]
        .filter((o) => !o.seeded)
        .map((o) => ({
          path: o.path,
          resource_type: String(store.view(o).resource_type),
          tags: (o.body.tags as FakeObject['tags'] | undefined) ?? [],
          revision: o.revision,
        })),
    object: (path) => {
      const o = store.get(path);
      return o ? store.view(o) : undefined;
    },
    calls: (operation) =>
      operation ? (ctx.calls.get(operation) ?? 0) : [...ctx.calls.values()].reduce((a, b) => a + b, 0),
    callCounts: () => Object.fromEntries(ctx.calls),
    resetCalls: () => ctx.calls.clear(),
    stop: () => server.stop(),
  };
}

/** What an NSX admin sets up before TKGI (or Slipway) runs: the Tier-0, the IP block and floating pool, sites and profiles. */
function seed(store: PolicyStore, options: FakeNsxtOptions): void {
  const floating = options.floatingCidr ?? '172.30.0.0/22';
  const [base] = floating.split('/');
  const octets = base!.split('.').map(Number);
  store.seed(FAKE_TIER0, { display_name: 't0-slipway', ha_mode: 'ACTIVE_STANDBY' });
  store.seed('/infra/sites/default', { display_name: 'default' });
  store.seed('/infra/sites/default/enforcement-points/default', { display_name: 'default' });
  store.seed(FAKE_EDGE_CLUSTER, { display_name: 'edge-cluster-1' });
  store.seed(FAKE_TRANSPORT_ZONE, { display_name: 'overlay-tz', tz_type: 'OVERLAY_STANDARD' });
  store.seed(FAKE_IP_BLOCK, { display_name: 'slipway-nodes', cidr: options.nodesBlockCidr ?? '10.100.0.0/16' });
  store.seed(FAKE_FLOATING_POOL, { display_name: 'slipway-floating' });
  store.seed(`${FAKE_FLOATING_POOL}/ip-subnets/floating`, {
    resource_type: 'IpAddressPoolStaticSubnet',
    cidr: floating,
    allocation_ranges: [{ start: `${octets[0]}.${octets[1]}.${octets[2]}.10`, end: lastHost(floating) }],
  });
  store.seed('/infra/domains/default', { display_name: 'default' });
  store.seed('/infra/lb-app-profiles/default-tcp-lb-app-profile', {
    resource_type: 'LBFastTcpProfile',
    display_name: 'default-tcp-lb-app-profile',
  });
}

function lastHost(cidr: string): string {
  const [ip, bits] = cidr.split('/');
  const n = ip!
    .split('.')
    .map(Number)
    .reduce((a, b) => a * 256 + b, 0);
  const size = 2 ** (32 - Number(bits));
  const last = n - (n % size) + size - 2;
  return [last >>> 24, (last >>> 16) & 255, (last >>> 8) & 255, last & 255].join('.');
}
