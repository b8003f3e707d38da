import type { CredentialType } from '@slipway/contracts';

/** Contract verb names, used to aim faults: each fake maps them to its product's requests. */
export type NetworkVerb =
  | 'prepareCluster'
  | 'allocateAddress'
  | 'releaseAddress'
  | 'listAllocations'
  | 'ensureApiEndpoint'
  | 'teardownCluster'
  | 'listClusterObjects';

/** What a network driver package's `fake/index.ts` `startFake()` returns for the suite. */
export interface StartedNetworkFake<C = unknown> {
  /** Driver config pointing at this fake, for a cluster network of exactly `capacity` usable node addresses. */
  config(options: { iaas: string; capacity: number }): C | Promise<C>;
  /** Credentials the config references by name; the test host's credential provider is seeded with them. */
  credentials?: Array<{ name: string; type: CredentialType; value: unknown }>;
  faults: NetworkFakeFaults;
  /**
   * `isolation`: whether the fake's network, as configured now, lets a packet from address `from` reach
   * `to:port` (the fake evaluates its own firewall rules, as the product's traceflow would). Required from a
   * driver that declares `isolation`: the suite checks isolation by what the network lets through.
   */
  canReach?(from: string, to: string, port: number): Promise<boolean>;
  /** Stops the fake's servers. */
  stop(): Promise<void>;
}

/** The fault knobs every network fake offers; the suite uses only these. */
export interface NetworkFakeFaults {
  /** The next `count` (default 1) requests behind `verb` are answered with the product's throttling error (429). */
  throttleNext(verb: NetworkVerb, count?: number): void;
  /** ... with the product's 5xx. */
  serverErrorNext(verb: NetworkVerb, count?: number): void;
  /** ... with a permanent error; a fake may return its message text, which the driver's error must keep. */
  permanentErrorNext(verb: NetworkVerb, count?: number): void | string;
  /** Random faults on every request (0..1 each), e.g. { throttle: 0.1, serverError: 0.1 }. */
  setFaultRates(rates: { throttle?: number; serverError?: number }): void;
  /** Latency added to every request, in ms. */
  setLatency(ms: number): void;
  /** Clears every fault, rate and latency. */
  reset(): void;
}
