import { assertNever } from '@slipway/contracts';

/**
 * The API's documents as the CLI reads them (GET /openapi.json is the contract). Only fields the human
 * output uses are named; --json prints whatever the API sent.
 */
export interface ClusterDoc {
  name: string;
  uuid: string;
  plan_name: string;
  iaas?: string;
  owner?: string;
  last_action: string | null;
  last_action_state: string | null;
  last_action_description: string | null;
  task_id: number | null;
  kubernetes_master_ips: string[];
  /** The load-balanced API VIP, when the network has one. */
  kubernetes_api_vip?: string | null;
  network_profile_name?: string | null;
  k8s_version: string;
  slipway_version?: string;
  parameters: {
    kubernetes_master_host: string;
    kubernetes_master_port: number;
    kubernetes_worker_instances: number;
    kubernetes_master_instances?: number;
  };
  created_at?: string;
  updated_at?: string;
  registry?: { project: string; endpoint: string; pull_robot: string | null; push_robot: string | null };
  /** Absent from older servers. */
  kubernetes?: { require_api: boolean };
}

export interface PlanDoc {
  id: string;
  name: string;
  description: string;
  master_instances: number;
  worker_instances: number;
  max_worker_instances: number;
  kubernetes_version?: string;
  iaas?: string;
}

export const TASK_STATES = ['queued', 'processing', 'cancelling', 'cancelled', 'done', 'error', 'timeout'] as const;
export type TaskState = (typeof TASK_STATES)[number];

export const STEP_STATES = ['pending', 'running', 'done', 'failed', 'skipped'] as const;
export type StepState = (typeof STEP_STATES)[number];

export interface TaskStepDoc {
  name: string;
  state: StepState;
  detail: string | null;
  started_at?: string | null;
  finished_at?: string | null;
}

export interface TaskDoc {
  id: number;
  type: string;
  cluster_name: string | null;
  user: string;
  state: TaskState;
  description: string;
  progress: { done: number; total: number };
  steps: TaskStepDoc[];
  waiting_for: string | null;
  error: { code: string; message: string; hint?: string } | null;
  created_at?: string;
  started_at?: string | null;
  ended_at?: string | null;
  log?: Array<{ at: string; level: string; message: string }>;
}

export interface InstanceDoc {
  name: string;
  vm_cid: string | null;
  ip: string | null;
  zone: string | null;
  state: string;
  desired: string;
  last_heartbeat_at: string | null;
  processes: Array<{ name: string; processes?: Array<{ name: string; state: string; warning?: string }> }>;
  /** Absent from control planes before 0003_mounted_disk. */
  persistent_disk?: { disk_cid: string; size_mb: number; attached_vm_cid: string | null; mounted: boolean } | null;
}

export interface EventDoc {
  at: string;
  kind: string;
  severity: string;
  message: string;
  instance_id?: string | null;
}

export interface TokenDoc {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope?: string;
}

export interface InventoryDoc {
  vms: Array<{ vmId: string; metadata: Record<string, string>; state?: string }>;
  disks: Array<{ diskId: string; vmId?: string; metadata: Record<string, string>; sizeMb?: number }>;
}

/** A task that will change no more. */
export function isFinished(state: TaskState): boolean {
  switch (state) {
    case 'queued':
    case 'processing':
    case 'cancelling':
      return false;
    case 'cancelled':
    case 'done':
    case 'error':
    case 'timeout':
      return true;
    default:
      return assertNever(state, 'task state');
  }
}
