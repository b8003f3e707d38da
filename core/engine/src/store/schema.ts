import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/**
 * Table types. Timestamps are ISO-8601 strings and JSON columns are text, so the same schema runs on
 * PostgreSQL through a dialect swap (no SQLite-only types or SQL in the engine).
 */
export interface Database {
  plans: PlansTable;
  users: UsersTable;
  tokens: TokensTable;
  clusters: ClustersTable;
  instances: InstancesTable;
  disks: DisksTable;
  tasks: TasksTable;
  task_steps: TaskStepsTable;
  task_logs: TaskLogsTable;
  events: EventsTable;
  stemcells: StemcellsTable;
  settings: SettingsTable;
  health_incidents: HealthIncidentsTable;
  cluster_health: ClusterHealthTable;
  alerts: AlertsTable;
  instance_specs: InstanceSpecsTable;
  roll_progress: RollProgressTable;
  fleet_upgrades: FleetUpgradesTable;
  fleet_upgrade_clusters: FleetUpgradeClustersTable;
  cluster_registry: ClusterRegistryTable;
  agent_bootstrap_tokens: AgentBootstrapTokensTable;
  agent_certificates: AgentCertificatesTable;
  network_profiles: NetworkProfilesTable;
  quotas: QuotasTable;
  certificate_alerts: CertificateAlertsTable;
  audit: AuditTable;
  leader: LeasesTable;
}

export interface AgentBootstrapTokensTable {
  /** SHA-256 (hex) of the token; the token itself is only in the VM's user data. */
  token_hash: string;
  /** The agent id (VM incarnation) the token is bound to. */
  agent_id: string;
  instance_id: string;
  cluster_uuid: string;
  expires_at: string;
  /** Set when the token was traded for a certificate (or burned because a sibling token was). */
  used_at: string | null;
  /** The certificate it was traded for: answered again only to a CSR for the same key (an agent that died before keeping it). */
  issued_serial: string | null;
  created_at: string;
}

/** `active`: accepted; `retired`: replaced by a renewal the agent has used; `revoked`: its VM was replaced or deleted. */
export type AgentCertificateState = 'active' | 'retired' | 'revoked';
/** How the certificate was obtained: a bootstrap token, a renewal, or before bootstrap tokens existed. */
export type AgentCertificateOrigin = 'bootstrap' | 'renewal' | 'legacy';

export interface AgentCertificatesTable {
  /** Upper-case hex, as TLS reports the peer's serial. */
  serial: string;
  agent_id: string;
  instance_id: string;
  cluster_uuid: string;
  state: AgentCertificateState;
  origin: AgentCertificateOrigin;
  not_before: string;
  not_after: string;
  issued_at: string;
  /** The serial this one renewed (null for a bootstrap): that one is retired when this one is first used. */
  renewed_from: string | null;
  /** The first sync or renewal made with it. */
  first_used_at: string | null;
  ended_at: string | null;
  /** Why it was retired or revoked. */
  reason: string | null;
  /** The PEM (public), so a repeated bootstrap for the same key gets the same certificate back. */
  certificate: string | null;
}

/** TKGI's network profiles (migration 0009). */
export interface NetworkProfilesTable {
  name: string;
  description: string | null;
  /** The validated `parameters` object, JSON. */
  parameters: string;
  created_by: string;
  created_at: string;
  updated_at: string;
}

/**
 * Certificate expiry alerts already raised, per scope (a cluster's uuid, or `control-plane`) and threshold
 * (days), so each threshold alerts once across restarts; a row goes when a renewal takes the scope's
 * earliest expiry back past its threshold.
 */
export interface CertificateAlertsTable {
  scope: string;
  threshold_days: number;
  /** The earliest not-after of the scope when the alert was raised. */
  not_after: string;
  raised_at: string;
}

export interface PlansTable {
  name: string;
  /** The whole plan as configured (JSON), so adding a plan field needs no migration. */
  spec: string;
  updated_at: string;
}

export interface UsersTable {
  id: Generated<number>;
  name: string;
  password_hash: string;
  /** JSON array of role names. */
  roles: string;
  created_at: string;
}

export interface TokensTable {
  /** SHA-256 of the bearer token; the token itself is never stored. */
  token_hash: string;
  user_id: number;
  expires_at: string;
  created_at: string;
}

export interface ClustersTable {
  uuid: string;
  name: string;
  /** The owner's name when it was created or reassigned; for display only. */
  owner: string;
  /** The owner's immutable user id (access is decided by it); null when its owner was deleted before 0005. */
  owner_id: number | null;
  plan_name: string;
  iaas: string;
  external_hostname: string;
  k8s_version: string;
  stemcell: string;
  master_instances: number;
  worker_instances: number;
  /** The address clients reach the API at (load balancer or first master). */
  api_address: string | null;
  /** The network profile the cluster was created or last updated with (migration 0009). */
  network_profile?: string | null;
  /** A cluster is `active` until its delete task finishes; `deleted` rows are kept for history. */
  status: 'active' | 'deleted';
  /** Nonce that makes a name reusable after deletion (unique index on name + live). */
  live: number | null;
  created_at: string;
  updated_at: string;
}

export interface InstancesTable {
  id: string;
  cluster_uuid: string;
  group_name: 'master' | 'worker';
  idx: number;
  /** Identity of the current VM incarnation; a recreate gets a new one. */
  agent_id: string;
  vm_cid: string | null;
  ip: string | null;
  zone: string | null;
  /** `present`: run; `drain`: drain before removal (resize down); `absent`: being removed. */
  desired: 'present' | 'drain' | 'absent';
  state: string;
  last_heartbeat_at: string | null;
  /** JSON of the latest JobStatus[] the agent reported. */
  processes: string | null;
  desired_generation: number;
  applied_generation: number;
  drained: number;
  /**
   * JSON of the agent's latest DrainReport (state, attempts, kubectl's message of the last failed attempt);
   * null when it reported none since its desired state last changed.
   */
  drain_report: ColumnType<string | null, string | null | undefined, string | null>;
  /** The persistent disk the agent last reported mounted (its cloud id); null: none or not yet. */
  mounted_disk_cid: string | null;
  /**
   * This node's share of the cluster's pod network (a /24 of 10.200.0.0/16): the one source of the kubelet's
   * podCIDR, the CNI's host-local range and other nodes' routes to it. Set when the row is made, kept by a
   * recreated VM (same row), released with the row. Null only on rows older than migration 0012 until backfilled.
   */
  pod_cidr: string | null;
  created_at: string;
  updated_at: string;
}

export interface DisksTable {
  id: string;
  cluster_uuid: string;
  instance_id: string;
  disk_cid: string | null;
  size_mb: number;
  attached_vm_cid: string | null;
  state: 'creating' | 'detached' | 'attached' | 'orphaned' | 'deleted';
  /** While a disk grows by a new disk and a copy: the old disk, attached beside it until the copy is done. */
  grow_from_cid: string | null;
  created_at: string;
  updated_at: string;
}

export interface TasksTable {
  id: Generated<number>;
  type: string;
  cluster_uuid: string | null;
  cluster_name: string | null;
  user: string;
  state: string;
  description: string;
  /** JSON input of the task (desired worker count...). */
  params: string;
  waiting_for: string | null;
  /** JSON SlipwayError of a failed task. */
  error: string | null;
  cancel_requested: ColumnType<number, number | undefined, number>;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  /** The replica working on the task (`host/pid/random`), kept after it ends to say who finished it. */
  owner: ColumnType<string | null, string | null | undefined, string | null>;
  /** Until when the owner's claim holds (ISO time); null once released. A lapsed lease lets another replica take over. */
  lease_expires_at: ColumnType<string | null, string | null | undefined, string | null>;
}

/** Named leases for work only one replica may do at a time (the singletons' leader). */
export interface LeasesTable {
  name: string;
  holder: string;
  expires_at: string;
}

export interface TaskStepsTable {
  task_id: number;
  seq: number;
  name: string;
  state: string;
  detail: string | null;
  started_at: string | null;
  finished_at: string | null;
}

export interface TaskLogsTable {
  id: Generated<number>;
  task_id: number;
  at: string;
  level: string;
  message: string;
}

export interface EventsTable {
  id: Generated<number>;
  at: string;
  cluster_uuid: string | null;
  instance_id: string | null;
  kind: string;
  severity: string;
  message: string;
  /** The task a `task.*` event reports on (migration 0017). */
  task_id?: number | null;
  /** JSON object of the event's own fields (a step's name, a log line's level), migration 0017. */
  details?: string | null;
}

/** The one audit trail (migration 0017): who did what to what, with which result, from where. */
export interface AuditTable {
  id: Generated<number>;
  at: string;
  /** A user's name, `engine` for the engine's own decisions, or the name a failed login tried. */
  actor: string;
  /** The user's immutable id when the actor is a known user. */
  actor_id: number | null;
  /** Dotted verb: `cluster.create`, `login`, `credential.get`, `resurrection.start`... */
  action: string;
  /** What was acted on: `cluster:prod`, `credential:/c/prod/ca`, `task:42`, `user:alice`. */
  target: string | null;
  cluster_uuid: string | null;
  /** `success`, `failure` or `denied`. */
  result: string;
  /** The caller's address. */
  source: string | null;
  request_id: string | null;
  /** JSON object. */
  details: string | null;
}
export type AuditRow = Selectable<AuditTable>;

export interface StemcellsTable {
  iaas: string;
  name: string;
  version: string;
  stemcell_cid: string;
  created_at: string;
}

export interface SettingsTable {
  key: string;
  value: string;
}

/** An instance the health monitor found down (unresponsive or missing), until it runs again. */
export interface HealthIncidentsTable {
  id: Generated<number>;
  cluster_uuid: string;
  instance_id: string;
  /** `unresponsive` or `missing`; an unresponsive instance whose VM turns out gone becomes `missing`. */
  kind: string;
  /** The VM that was found down. */
  vm_cid: string | null;
  detected_at: string;
  resolved_at: string | null;
  /** How it ended: `recovered` (the agent came back), `resurrected`, `repaired`, `removed`. */
  resolution: string | null;
  /** The RESURRECT task that handled it, if any. */
  task_id: number | null;
}

/** Per-cluster health settings and the resurrector's memory. */
export interface ClusterHealthTable {
  cluster_uuid: string;
  /** `on` / `off` set with `slipway resurrection NAME on|off`; null: the config's default. */
  resurrection: string | null;
  resurrection_set_by: string | null;
  /** Set while the meltdown guard holds resurrection back. */
  meltdown_since: string | null;
  /** Failed resurrection attempts in a row, and when the next one may start (backoff). */
  failures: number;
  retry_at: string | null;
  updated_at: string;
}

export interface AlertsTable {
  id: string;
  at: string;
  severity: string;
  kind: string;
  title: string;
  summary: string;
  cluster_uuid: string | null;
  instance_id: string | null;
}

/** What an instance's current VM runs, as the last create or roll left it. */
export interface InstanceSpecsTable {
  instance_id: string;
  cluster_uuid: string;
  k8s_version: string;
  /** `name/version` */
  stemcell: string;
  /** JSON of the VM type it was created with. */
  vm_type: string;
  updated_at: string;
}

/** Which instances a roll (one step of one task) has replaced: what makes a resumed roll skip them. */
export interface RollProgressTable {
  roll_key: string;
  instance_id: string;
  /** `retired`: the old VM is gone, the new one not yet healthy; `done`. */
  state: string;
  at: string;
}

/** A fleet upgrade (`slipway upgrade-clusters`): per-cluster upgrades, canaries first. */
export interface FleetUpgradesTable {
  id: Generated<number>;
  user: string;
  state: string;
  /** JSON: max_in_flight, kubernetes_version, stemcell, strategy overrides. */
  params: string;
  cancel_requested: number;
  error: string | null;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
}

export interface FleetUpgradeClustersTable {
  fleet_id: number;
  seq: number;
  cluster_uuid: string;
  cluster_name: string;
  is_canary: number;
  /** `queued`, `in progress`, `succeeded`, `failed`, `skipped`, `cancelled` */
  state: string;
  task_id: number | null;
  detail: string | null;
  started_at: string | null;
  ended_at: string | null;
}

export type ClusterRow = Selectable<ClustersTable>;
export type NewCluster = Insertable<ClustersTable>;
export type ClusterUpdate = Updateable<ClustersTable>;
export type InstanceRow = Selectable<InstancesTable>;
export type DiskRow = Selectable<DisksTable>;
export type TaskRow = Selectable<TasksTable>;
export type TaskStepRow = Selectable<TaskStepsTable>;
export type TaskLogRow = Selectable<TaskLogsTable>;
export type UserRow = Selectable<UsersTable>;
export type EventRow = Selectable<EventsTable>;
export type HealthIncidentRow = Selectable<HealthIncidentsTable>;
export type ClusterHealthRow = Selectable<ClusterHealthTable>;
export type AlertRow = Selectable<AlertsTable>;
export type InstanceSpecRow = Selectable<InstanceSpecsTable>;
export type FleetUpgradeRow = Selectable<FleetUpgradesTable>;
export type FleetUpgradeClusterRow = Selectable<FleetUpgradeClustersTable>;

/** A cluster's project and robot accounts in the image registry (names only; secrets are credentials). */
export interface ClusterRegistryTable {
  cluster_uuid: string;
  project: string;
  /** Registry host nodes pull from. */
  endpoint: string;
  /** PEM CA nodes trust for `endpoint`, when it is not publicly trusted. */
  ca_pem: string | null;
  /** Full robot names as the registry reports them (Harbor: `robot$project+name`). */
  pull_robot: string | null;
  push_robot: string | null;
  secrets_rotated_at: string | null;
  updated_at: string;
}
export type ClusterRegistryRow = Selectable<ClusterRegistryTable>;
export type AgentBootstrapTokenRow = Selectable<AgentBootstrapTokensTable>;
export type AgentCertificateRow = Selectable<AgentCertificatesTable>;
export type NetworkProfileRow = Selectable<NetworkProfilesTable>;
export type CertificateAlertRow = Selectable<CertificateAlertsTable>;

/** An owner's limits (TKGI `/quotas`): null is no limit on that resource, 0 allows none of it. */
export interface QuotasTable {
  owner: string;
  clusters: number | null;
  cpu: number | null;
  memory_mb: number | null;
  created_by: string;
  created_at: string;
  updated_at: string;
}
export type QuotaRow = Selectable<QuotasTable>;
