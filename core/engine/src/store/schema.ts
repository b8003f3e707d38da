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
  owner: string;
  plan_name: string;
  iaas: string;
  external_hostname: string;
  k8s_version: string;
  stemcell: string;
  master_instances: number;
  worker_instances: number;
  /** The address clients reach the API at (load balancer or first master). */
  api_address: string | null;
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
}

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
