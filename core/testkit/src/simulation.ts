/**
 * @slipway/testkit/simulation — the parts of the testkit that simulated clouds use at run time (the sandbox
 * driver, every driver's fake). Nothing here imports vitest, so a sandbox running under `slipway up` does
 * not need the test runner.
 */
export { SimulatedProcessRunner, SimulatedProcess, type ProcessEvent, type SimulatedProcessRunnerOptions } from './simulated-process-runner.js';
export { bootSimulatedAgent, type SimulatedAgent, type BootSimulatedAgentOptions } from './simulated-agent.js';
export { AgentChannelRecorder, type RecordedSync } from './agent-channel-recorder.js';
export { createTestHost, type TestHost } from './test-host.js';
export { startDriverUnderTest, type DriverUnderTest } from './driver-under-test.js';
export { failure, placeholderSettings, placeholderVmInput } from './driver-test-inputs.js';
export { MemoryCredentialProvider } from './memory-credentials.js';
export { createQuietLogger, type QuietLogger } from './quiet-logger.js';
export type { StartedFake, FakeFaults, IaasVerb } from './iaas/fake.js';
export { FakeScheduler } from './iaas/fake-scheduler.js';
export type { StartedRegistryFake, RegistryFakeFaults, RegistryVerb } from './registry/fake.js';
/** Where a simulated VM's agent keeps its key and certificate: a VM directory, or memory kept across its reboots. */
export { FileCredentialStore, MemoryCredentialStore, type AgentCredentialStore } from '@slipway/agent';
