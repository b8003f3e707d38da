/**
 * @slipway/testkit — conformance suites per plugin kind, fault-injection vocabulary for fakes, the simulated
 * process runner that lets the real agent run in-process, and a recorder standing in for the control plane.
 * The simulated cloud machinery itself (what fakes and the sandbox run) is @slipway/simulation, which needs no test runner.
 */
export * from './simulation.js';
export {
  runIaasConformance,
  IAAS_CONFORMANCE_TESTS,
  IAAS_CONFORMANCE_TEST_NAMES,
  type FaultRates,
  type IaasConformanceOptions,
} from './iaas/conformance.js';
export { withEngineRetries, TEST_RETRY_POLICY, type RetryPolicy, type RetryStats } from './iaas/engine-retries.js';
export {
  runNetworkConformance,
  NETWORK_CONFORMANCE_TESTS,
  NETWORK_CONFORMANCE_TEST_NAMES,
  type NetworkConformanceOptions,
} from './network/conformance.js';
// StartedNetworkFake, NetworkFakeFaults and NetworkVerb come with the simulation re-export above.
export { withNetworkRetries, NETWORK_FAULTS_RETRY_POLICY } from './network/retries.js';
export { missingIaasVerbs, REQUIRED_IAAS_VERBS, CAPABILITY_MEMBERS } from './iaas/verbs.js';
export { checkSkips, type ConformanceSkip } from './iaas/skips.js';
export type { ConformanceTest, ConformanceGroup } from './iaas/conformance-test.js';
export type { ConformanceCloudProperties } from './iaas/context.js';
export {
  runRegistryConformance,
  REGISTRY_CONFORMANCE_TEST_NAMES,
  type RegistryConformanceOptions,
} from './registry/conformance.js';
export { probeRepositoryAccess, type RepositoryAccess } from './registry/data-path.js';
