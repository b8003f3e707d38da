import { createSecureContext } from 'node:tls';
import { SlipwayError } from '@slipway/contracts';
import { PLUGIN } from './errors.js';

/** How the driver trusts vCenter's certificate. */
export interface TlsTrust {
  /** PEM of the CAs to trust instead of the system's (vCenter's VMCA root), as `curl --cacert` does. */
  caPem?: string;
  /** Skip certificate verification entirely. */
  insecure?: boolean;
}

/** What `fetch` needs in its init to use a connection pool with our TLS settings. */
export interface FetchTls {
  /** Spread into fetch's init. Empty when the system's CAs are enough. */
  readonly init: Record<string, unknown>;
  close(): Promise<void>;
}

interface Dispatcher {
  close(): Promise<void>;
}
type AgentConstructor = new (options: { connect: Record<string, unknown>; keepAliveTimeout?: number }) => Dispatcher;

/**
 * A connection pool for `fetch` that trusts `caPem` (or nothing, when insecure). Node's fetch has no `ca`
 * option; it takes a `dispatcher`, an undici Agent. Node bundles undici but does not export it, so the Agent
 * class is taken from the global dispatcher Node's fetch installs (undici's documented cross-copy registry,
 * `Symbol.for('undici.globalDispatcher.1')`). With the `undici` package as a dependency this becomes a plain
 * import; nothing else changes.
 */
export async function fetchTls(trust: TlsTrust): Promise<FetchTls> {
  if (!trust.caPem && !trust.insecure) return { init: {}, close: async () => undefined };
  const Agent = await undiciAgent();
  // One secure context for every connection (building one per connection costs milliseconds), holding only
  // the given CA: a vCenter signed by a public CA needs no ca_cert, and a small store verifies faster.
  const connect: Record<string, unknown> = trust.insecure
    ? { rejectUnauthorized: false }
    : { secureContext: createSecureContext({ ca: trust.caPem }) };
  const dispatcher = new Agent({ connect, keepAliveTimeout: 30_000 });
  return { init: { dispatcher }, close: () => dispatcher.close() };
}

const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

async function undiciAgent(): Promise<AgentConstructor> {
  const holder = globalThis as unknown as Record<symbol, { constructor?: unknown } | undefined>;
  if (!holder[GLOBAL_DISPATCHER]) {
    // Node creates its dispatcher on the first fetch; a data: URL does that without any I/O.
    await fetch('data:text/plain,').then((r) => r.arrayBuffer()).catch(() => undefined);
  }
  const agent = holder[GLOBAL_DISPATCHER]?.constructor;
  // A process that installed its own global dispatcher (a proxy, a mock) does not give us a plain Agent.
  if (typeof agent !== 'function' || agent.name !== 'Agent') {
    throw new SlipwayError('Unsupported', 'this Node.js has no undici Agent behind fetch, so ca_cert / insecure cannot be applied', {
      plugin: PLUGIN, field: 'ca_cert', hint: 'Run Slipway on Node.js 20 or later, or trust vCenter\'s CA through NODE_EXTRA_CA_CERTS and drop ca_cert.',
    });
  }
  return agent as AgentConstructor;
}
