import type { PlanConfig } from '../config/schema.js';
import { KUBERNETES_API_PORT } from '../lifecycle/cluster-tasks.js';
import type {
  ClusterWithTask,
  DiskRow,
  EventRow,
  InstanceRow,
  TaskLogRow,
  TaskRow,
  TaskStepRow,
} from '../store/index.js';

/** PKS's `last_action_state` from our task state. */
function lastActionState(taskState: string | null): 'in progress' | 'succeeded' | 'failed' {
  switch (taskState) {
    case 'done':
      return 'succeeded';
    case 'error':
    case 'cancelled':
    case 'timeout':
      return 'failed';
    default:
      return 'in progress';
  }
}

const ACTION_WORDS: Record<string, string> = {
  CREATE: 'Creating',
  UPDATE: 'Updating',
  UPGRADE: 'Upgrading',
  DELETE: 'Deleting',
  RESURRECT: 'Resurrecting a VM of',
  REPAIR: 'Repairing',
  ROTATE: 'Rotating certificates of',
};

export interface ClusterView {
  name: string;
  uuid: string;
  plan_name: string;
  iaas: string;
  owner: string;
  last_action: string | null;
  last_action_state: string | null;
  last_action_description: string | null;
  task_id: number | null;
  /** The load balancer's VIP first (when the network has one), then every master's address. */
  kubernetes_master_ips: string[];
  /** The API's load-balanced VIP; null when the endpoint is a master's own address. */
  kubernetes_api_vip: string | null;
  network_profile_name: string | null;
  k8s_version: string;
  slipway_version: string;
  parameters: {
    kubernetes_master_host: string;
    kubernetes_master_port: number;
    kubernetes_worker_instances: number;
    kubernetes_master_instances: number;
  };
  created_at: string;
  updated_at: string;
  /** The cluster's project and robots in the image registry (one cluster's view; absent without a registry). */
  registry?: ClusterRegistryView;
  /**
   * From the cluster's plan: `require_api: false` marks an etcd-only rehearsal whose create succeeded without
   * a Kubernetes API (`slipway cluster` says so).
   */
  kubernetes: { require_api: boolean };
}

export interface ClusterRegistryView {
  project: string;
  endpoint: string;
  pull_robot: string | null;
  push_robot: string | null;
}

export function clusterView(
  row: ClusterWithTask,
  masterIps: string[],
  version: string,
  requireApi = true,
): ClusterView {
  const state = row.task_state ? lastActionState(row.task_state) : null;
  const word = row.task_type ? (ACTION_WORDS[row.task_type] ?? row.task_type) : null;
  return {
    name: row.name,
    uuid: row.uuid,
    plan_name: row.plan_name,
    iaas: row.iaas,
    owner: row.owner,
    last_action: row.task_type,
    last_action_state: state,
    last_action_description: word
      ? `${word} cluster ${state === 'in progress' ? '' : state === 'succeeded' ? 'succeeded' : 'failed'}`.trim()
      : null,
    task_id: row.task_id,
    kubernetes_master_ips: vipOf(row, masterIps) ? [row.api_address!, ...masterIps] : masterIps,
    kubernetes_api_vip: vipOf(row, masterIps) ? row.api_address : null,
    network_profile_name: row.network_profile ?? null,
    k8s_version: row.k8s_version,
    slipway_version: version,
    parameters: {
      kubernetes_master_host: row.external_hostname,
      kubernetes_master_port: KUBERNETES_API_PORT,
      kubernetes_worker_instances: row.worker_instances,
      kubernetes_master_instances: row.master_instances,
    },
    created_at: row.created_at,
    updated_at: row.updated_at,
    kubernetes: { require_api: requireApi },
  };
}

/** The API address is a VIP when it is not one of the masters' own addresses. */
function vipOf(row: ClusterWithTask, masterIps: string[]): boolean {
  return Boolean(row.api_address) && !masterIps.includes(row.api_address!);
}

export function planView(plan: PlanConfig, k8sVersion: string) {
  return {
    id: plan.name,
    name: plan.name,
    description: plan.description ?? '',
    master_instances: plan.master_instances,
    worker_instances: plan.worker_instances,
    max_worker_instances: plan.max_worker_instances,
    kubernetes_version: k8sVersion,
    iaas: plan.iaas,
    vm_type: { master: plan.master_vm, worker: plan.worker_vm },
  };
}

export function taskView(task: TaskRow, steps: TaskStepRow[], log?: TaskLogRow[]) {
  const done = steps.filter((s) => s.state === 'done' || s.state === 'skipped').length;
  return {
    id: task.id,
    type: task.type,
    cluster_name: task.cluster_name,
    cluster_uuid: task.cluster_uuid,
    user: task.user,
    state: task.state,
    description: task.description,
    progress: { done, total: steps.length },
    steps: steps.map((s) => ({
      name: s.name,
      state: s.state,
      detail: s.detail,
      started_at: s.started_at,
      finished_at: s.finished_at,
    })),
    waiting_for: task.waiting_for,
    error: task.error ? (JSON.parse(task.error) as { code: string; message: string; hint?: string }) : null,
    created_at: task.created_at,
    started_at: task.started_at,
    ended_at: task.ended_at,
    ...(log ? { log: log.map((l) => ({ at: l.at, level: l.level, message: l.message })) } : {}),
  };
}

/** An instance as users read it; `disk` is its persistent disk, `mounted` whether its agent reports it mounted. */
export function instanceView(i: InstanceRow, disk?: DiskRow) {
  return {
    id: i.id,
    name: `${i.group_name}/${i.idx}`,
    group: i.group_name,
    index: i.idx,
    vm_cid: i.vm_cid,
    agent_id: i.agent_id,
    ip: i.ip,
    zone: i.zone,
    state: i.state,
    desired: i.desired,
    last_heartbeat_at: i.last_heartbeat_at,
    processes: i.processes ? JSON.parse(i.processes) : [],
    persistent_disk: disk?.disk_cid
      ? {
          disk_cid: disk.disk_cid,
          size_mb: disk.size_mb,
          attached_vm_cid: disk.attached_vm_cid,
          mounted: i.mounted_disk_cid === disk.disk_cid,
        }
      : null,
  };
}

/** An event as users read it: the instance by name (`worker/2`), not by its row id. */
export function eventView(e: EventRow, instanceNames: ReadonlyMap<string, string>) {
  return {
    at: e.at,
    kind: e.kind,
    severity: e.severity,
    instance: e.instance_id ? (instanceNames.get(e.instance_id) ?? null) : null,
    message: e.message,
  };
}
