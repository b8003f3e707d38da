import 'reflect-metadata';

export * from './tokens.js';
export { SystemClock, isoNow } from './clock.js';
export { LineLogger, silentLogger } from './logger.js';
export { JsonLogger, REDACTED_PATHS, type LogLevel } from './json-logger.js';
export { withRetry, forEachLimit, DEFAULT_RETRY, type RetryPolicy } from './retry.js';
export {
  configSchema,
  type SlipwayConfig,
  type PlanConfig,
  type PluginRef,
  type IaasTarget,
  type VmType,
} from './config/schema.js';
export {
  loadConfigFile,
  validateConfig,
  validateConfigFile,
  parseConfigText,
  describeAjvErrors,
  jsonPathOf,
} from './config/load.js';
export { DEFAULT_CONFIG_YAML } from './config/default-config.js';
export { PluginLoader, pluginRefsOf, type ResolvedPlugin } from './plugins/loader.js';
export { providePluginPeers, PLUGIN_PEERS } from './plugins/plugin-peers.js';
export { createPluginSet, createPluginInstance, type PluginSet, type IaasTargetRuntime } from './plugins/plugin-set.js';
export { importCredentials, readCredentialImport, type ImportEntry } from './plugins/credential-import.js';
export {
  createStore,
  parseStoreUrl,
  describeStore,
  type Store,
  type StoreLocation,
  type StoreDialectName,
} from './store/index.js';
export type * from './store/schema.js';
export { AgentRegistry, instanceStateOf, type SyncResult } from './agents/agent-registry.js';
export { AgentIdentity, ENGINE_ACTOR, legacyAgentCredentialName } from './agents/agent-identity.js';
export { AgentBootstrap, type AgentPeer } from './agents/agent-bootstrap.js';
export { AgentCertificateAuthority } from './agents/agent-certificate-authority.js';
export { BootstrapTokens, bootstrapTokenHash } from './agents/bootstrap-tokens.js';
export { JOBS_BY_GROUP } from './agents/jobs.js';
export { buildJobProperties, nodeNameOf } from './agents/job-properties.js';
export { JobPropertiesBuilder } from './agents/job-properties-builder.js';
export { AuthService, type IssuedToken } from './auth/auth-service.js';
export { passwordParams, weakPasswordHashing } from './auth/passwords.js';
export { UserService, type UserView } from './auth/user-service.js';
export { ROLES, mayAccessCluster, requireRole, seesAllClusters, type Principal, type Role } from './auth/roles.js';
export { ClusterService } from './clusters/cluster-service.js';
export { buildKubeconfig, type Kubeconfig } from './clusters/kubeconfig.js';
export type { ClusterView } from './clusters/views.js';
export { PlanCatalog } from './plans.js';
export { TaskRunner } from './tasks/task-runner.js';
export {
  AuditTrail,
  auditSinkOf,
  ENGINE_AUDIT_ACTOR,
  AUDIT_DEFAULTS,
  type AuditView,
  type AuditFilters,
} from './audit/audit-trail.js';
export { ControlPlaneMetrics } from './metrics/control-plane-metrics.js';
export { EventBus, type EventPublisher, type StreamEvent, type EventListener } from './events/event-bus.js';
export {
  EventStream,
  EVENTS_DEFAULTS,
  type EventQuery,
  type EventView,
  type StreamEnd,
  type Subscription,
} from './events/event-stream.js';
export * from './tasks/model.js';
export {
  ClusterSteps,
  createClusterTask,
  resizeClusterTask,
  deleteClusterTask,
  KUBERNETES_API_PORT,
} from './lifecycle/cluster-tasks.js';
export { Provisioner } from './lifecycle/provisioner.js';
export {
  ensureControlPlaneTls,
  CONTROL_PLANE_CA,
  AGENT_CA,
  SERVER_CERT,
  type ControlPlaneTls,
} from './control-plane-tls.js';
export { storeLocationOf } from './store-location.js';
export { openEngine, type Engine, type EngineOptions, type EngineServices } from './engine.js';
export * from './health/index.js';
export * from './upgrades/index.js';
export type { HealthConfig, UpdateStrategyConfig, CountOrPercent } from './config/schema.js';
export { HomeLock, readHolder, LOCK_FILE, HOLDER_FILE, type HomeLockHolder } from './home-lock.js';
export {
  chooseAdvertiseUrl,
  extraListenerFor,
  reachOf,
  ADVERTISE_URL_SETTING,
  type AdvertisedUrl,
  type AdvertiseSource,
  type AdvertisedReach,
} from './advertise-url.js';
export { defaultKeysDir } from './keys-dir.js';
export { takeBackup, dataDirOf, STORE_FILE, type BackupOptions } from './backup/take-backup.js';
export { restoreBackup, verifyBackup, type RestoreOptions, type RestoreResult } from './backup/restore-backup.js';
export { SqliteOnlineCopier, type DatabaseCopier } from './backup/database-copier.js';
export type { BackupManifest, BackupFile, BackedUpPlugin } from './backup/manifest.js';
export { ClusterRegistrySteps } from './registry/cluster-registry.js';
export { registryProjectName, robotNames, robotCredentialNames } from './registry/naming.js';
export { applyPullSecret, dockerConfigSecret, PULL_SECRET_NAME } from './registry/pull-secret.js';
export { userActor, ownerGrantPaths } from './cluster-pki.js';
export { QuotaService, footprintOf, type QuotaDemand, type QuotaView, type UsageView } from './quotas/index.js';
export {
  NetworkProfileService,
  NETWORK_PROFILE_SCHEMA,
  validateNetworkProfile,
  type NetworkProfileView,
} from './network-profiles/index.js';
export { NetworkLeftovers, type NetworkLeftover, type NetworkLeftoverReport } from './health/network-leftovers.js';
export { CertificateService, type ClusterCertificates } from './certificates/certificate-service.js';
export { CertificateWatch, CONTROL_PLANE_SCOPE } from './certificates/certificate-watch.js';
export { ServingCertificate, type ServingKeyPair } from './certificates/serving-certificate.js';
export {
  clusterCertificates,
  daysLeft,
  CERTIFICATE_KINDS,
  type CertificateEntry,
  type CertificateKind,
} from './certificates/certificate-inventory.js';
export { certificateSettingsOf, type CertificateSettings } from './certificates/settings.js';
export type { CertificatesConfig } from './config/schema.js';
export * from './kubernetes-api/index.js';
export type { PlanKubernetesConfig } from './config/schema.js';
export { newReplicaIdentity, type ReplicaIdentity } from './replicas/identity.js';
export { replicaSettingsOf, REPLICA_DEFAULTS, type ReplicaMode, type ReplicaSettings } from './replicas/settings.js';
export { TaskLeases, type ClaimedTask } from './replicas/task-leases.js';
export { LeaderLease, type LeaderDuties } from './replicas/leader-lease.js';
export { LocalChangeFeed, type ChangeFeed } from './replicas/change-feed.js';
export type { ReplicasConfig } from './config/schema.js';
export { PostgresChangeFeed, CHANGE_CHANNEL } from './replicas/postgres-change-feed.js';
export { pluginDatabases } from './store/plugin-database.js';
