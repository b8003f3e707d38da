/**
 * @slipway/agent — the node agent that runs on every VM: reads its settings from the cloud's metadata, syncs
 * with the control plane over mutual TLS, renders its jobs, mounts its persistent disk, runs its jobs'
 * processes and restarts those that die.
 */
export { Agent, type AgentOptions, type DiskMounterFactory } from './agent.js';
export { AgentChannel, requestBootstrap, type SyncReply, type SyncRequest } from './channel-client.js';
export { DesiredStateCache, DESIRED_STATE_FORMAT, type CacheRefusal } from './desired-state-cache.js';
export {
  FileCredentialStore,
  MemoryCredentialStore,
  credentialsOf,
  type AgentCredentials,
  type AgentCredentialStore,
} from './identity/identity-store.js';
export { createKeyAndRequest, type KeyAndRequest } from './identity/csr.js';
export { NodeIdentity } from './identity/node-identity.js';
export {
  defaultJobCatalog,
  defaultJobsFor,
  DEFAULT_JOBS,
  type HookSpec,
  type JobCatalog,
  type JobContext,
  type JobPlan,
} from './job-catalog.js';
export {
  sameProcessSpec,
  type ProcessExit,
  type ProcessRunner,
  type ProcessSpec,
  type RunningProcess,
} from './process-runner.js';
export { ChildProcessRunner, type ChildProcessRunnerOptions } from './child-process-runner.js';
export { isSameProcess, pidsWithEnv, readProcStat, signalGroup } from './proc.js';
export { LogCap } from './log-files.js';
export { probe, describeCheck, type HealthCheck } from './health-check.js';
export { FileMetadataSource, type FileMetaData } from './file-metadata.js';
export {
  PersistentDisk,
  findDeviceById,
  execCommand,
  type CommandRunner,
  type PersistentDiskOptions,
} from './persistent-disk.js';
export {
  PodRouteReconciler,
  POD_ROUTE_PROTOCOL,
  wantedRoutes,
  type PodRoute,
  type RouteChanges,
  type WantedRoutes,
} from './network/pod-routes.js';
export { agentPaths, type AgentPaths } from './paths.js';
export {
  detectResolvConf,
  KubernetesJobCatalog,
  KUBERNETES_JOBS,
  LIBC_RESOLV_CONF,
  SYSTEMD_RESOLV_CONF,
  type KubernetesJobCatalogOptions,
} from './kubernetes/catalog.js';
export { corednsManifest, renderCorefile } from './kubernetes/jobs/coredns.js';
export { initialMemberId, prepareEtcdMember, type EtcdBootstrap } from './kubernetes/etcd-membership.js';
export { componentVersions, type ComponentVersions } from './kubernetes/versions.js';
export type {
  HostFacts,
  JobDefinition,
  RenderContext,
  RenderedFile,
  RenderedJob,
} from './kubernetes/job-definition.js';
export { DEFAULT_SUPERVISION, type SupervisionOptions } from './supervision.js';
export { backoffDelay } from './backoff.js';
export { createJsonLogger } from './logger.js';
export { systemClock } from './system-clock.js';
