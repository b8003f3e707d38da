/**
 * @slipway/testkit — conformance suites per plugin kind, fault-injection vocabulary for fakes, the simulated
 * process runner that lets the real agent run in-process, and a recorder standing in for the control plane.
 * Run-time users that must not load vitest import `@slipway/testkit/simulation` instead.
 */
export * from './simulation.js';
export { runIaasConformance, IAAS_CONFORMANCE_TESTS, IAAS_CONFORMANCE_TEST_NAMES, type FaultRates, type IaasConformanceOptions } from './iaas/conformance.js';
export { withEngineRetries, TEST_RETRY_POLICY, type RetryPolicy, type RetryStats } from './iaas/engine-retries.js';
export { runNetworkConformance, NETWORK_CONFORMANCE_TESTS, NETWORK_CONFORMANCE_TEST_NAMES, type NetworkConformanceOptions } from './network/conformance.js';
export type { StartedNetworkFake, NetworkFakeFaults, NetworkVerb } from './network/fake.js';
export { withNetworkRetries, NETWORK_FAULTS_RETRY_POLICY } from './network/retries.js';
export { missingIaasVerbs, REQUIRED_IAAS_VERBS, CAPABILITY_MEMBERS } from './iaas/verbs.js';
export { checkSkips, type ConformanceSkip } from './iaas/skips.js';
export type { ConformanceTest, ConformanceGroup } from './iaas/conformance-test.js';
export type { ConformanceCloudProperties } from './iaas/context.js';
