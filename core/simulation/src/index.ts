/**
 * @slipway/simulation — the simulated cloud machinery that runs outside tests: the sandbox driver and every
 * driver's wire-level fake use it under `slipway up` and `slipway fake`. It depends on no test runner, so an
 * operator's install carries none; the conformance suites that do need vitest live in @slipway/testkit.
 */
export {
  SimulatedProcessRunner,
  SimulatedProcess,
  type ProcessEvent,
  type SimulatedProcessRunnerOptions,
} from './simulated-process-runner.js';
export { bootSimulatedAgent, type SimulatedAgent, type BootSimulatedAgentOptions } from './simulated-agent.js';
export { AgentChannelRecorder, type RecordedSync } from './agent-channel-recorder.js';
export { createQuietLogger, type QuietLogger } from './quiet-logger.js';
export type { StartedFake, FakeFaults, FakeInspection, IaasVerb } from './iaas-fake.js';
export { FakeScheduler } from './fake-scheduler.js';
export type { StartedRegistryFake, RegistryFakeFaults, RegistryVerb } from './registry-fake.js';
export type { StartedNetworkFake, NetworkFakeFaults, NetworkVerb } from './network-fake.js';
/** Where a simulated VM's agent keeps its key and certificate: a VM directory, or memory kept across its reboots. */
export { FileCredentialStore, MemoryCredentialStore, type AgentCredentialStore } from '@slipway/agent';
