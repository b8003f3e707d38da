/**
 * @slipway/agent — the node agent that runs on every VM: reads its settings from the cloud's metadata, syncs
 * with the control plane over mutual TLS, runs its jobs' processes and restarts those that die.
 */
export { Agent, type AgentOptions } from './agent.js';
export { AgentChannel, type SyncReply, type SyncRequest } from './channel-client.js';
export { defaultJobCatalog, defaultJobsFor, DEFAULT_JOBS, type JobCatalog, type JobContext } from './job-catalog.js';
export { sameProcessSpec, type ProcessExit, type ProcessRunner, type ProcessSpec, type RunningProcess } from './process-runner.js';
export { DEFAULT_SUPERVISION, type SupervisionOptions } from './supervision.js';
export { backoffDelay } from './backoff.js';
export { createJsonLogger } from './logger.js';
export { systemClock } from './system-clock.js';
