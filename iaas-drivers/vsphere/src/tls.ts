import { createSecureContext } from 'node:tls';
import { Agent } from 'undici';

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

/**
 * A connection pool for `fetch` that trusts `caPem` (or nothing, when insecure). Node's fetch has no `ca`
 * option; it takes a `dispatcher`: an undici Agent, from the undici package (Node bundles its own copy but
 * does not export it).
 */
export async function fetchTls(trust: TlsTrust): Promise<FetchTls> {
  if (!trust.caPem && !trust.insecure) return { init: {}, close: async () => undefined };
  // One secure context for every connection (building one per connection costs milliseconds), holding only
  // the given CA: a vCenter signed by a public CA needs no ca_cert, and a small store verifies faster.
  const connect = trust.insecure
    ? { rejectUnauthorized: false }
    : { secureContext: createSecureContext({ ca: trust.caPem }) };
  const dispatcher = new Agent({ connect, keepAliveTimeout: 30_000 });
  return { init: { dispatcher }, close: () => dispatcher.close() };
}
