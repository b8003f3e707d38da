import type { CredentialType } from '@slipway/contracts';

/** Registry contract verbs, used to aim faults: each fake maps them to its registry's operation (ensureRobot -> createRobot). */
export type RegistryVerb =
  | 'info'
  | 'ensureProject'
  | 'ensureRobot'
  | 'rotateRobotSecret'
  | 'deleteRobot'
  | 'deleteProject'
  | 'listProjects';

/** The fault knobs of a registry fake: the IaaS fakes' vocabulary, without VMs and quotas. */
export interface RegistryFakeFaults {
  /** The next `count` (default 1) requests of the operation behind `verb` are throttled (429 with Retry-After). */
  throttleNext(verb: RegistryVerb, count?: number): void;
  /** ... fail with the registry's own 5xx. */
  serverErrorNext(verb: RegistryVerb, count?: number): void;
  /** Random faults on every API request (0..1 each), e.g. { throttle: 0.1, serverError: 0.1 }. */
  setFaultRates(rates: { throttle?: number; serverError?: number }): void;
  /** Latency added to every API request, in ms. */
  setLatency(ms: number): void;
  /** Clears every fault, rate and latency. */
  reset(): void;
}

/** What a registry driver package's `fake/index.ts` `startFake()` returns. */
export interface StartedRegistryFake<C = unknown> {
  /** Driver config pointing at this fake. */
  config: C;
  /** Credentials the config references by name; the test host's credential provider is seeded with them. */
  credentials?: Array<{ name: string; type: CredentialType; value: unknown }>;
  faults: RegistryFakeFaults;
  stop(): Promise<void>;
}
