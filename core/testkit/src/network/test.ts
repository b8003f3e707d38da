import type { NetworkCapability } from '@slipway/contracts';
import type { NetworkConformanceContext } from './context.js';

export const NETWORK_GROUPS = [
  'module',
  'topology',
  'addresses',
  'endpoint',
  'isolation',
  'leftovers',
  'errors',
  'signal',
  'faults',
] as const;
export type NetworkGroup = (typeof NETWORK_GROUPS)[number];

/** One test of the network conformance suite. */
export interface NetworkConformanceTest {
  group: NetworkGroup;
  name: string;
  /** Runs only when the driver instance offers this capability (all of them, for a list). */
  capability?: NetworkCapability | NetworkCapability[];
  /** Runs only without it (the contract's fallback behaviour). */
  withoutCapability?: NetworkCapability;
  /** Needs the fake's fault knobs: a driver of local resources (no fake) skips it, with that reason. */
  needsFake?: boolean;
  /** Injects one fault: a faults run (where retries absorb it) skips it. */
  singleFault?: boolean;
  timeoutMs?: number;
  run(ctx: NetworkConformanceContext): Promise<void>;
}

export function fullName(test: Pick<NetworkConformanceTest, 'group' | 'name'>): string {
  return `${test.group} > ${test.name}`;
}
