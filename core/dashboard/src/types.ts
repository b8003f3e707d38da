import type { Api, Session } from './api.js';

/** What every view gets: the API, who is signed in, navigation and the screen reader's live region. */
export interface ViewContext {
  api: Api;
  session: Session;
  go(hash: string): void;
  announce(text: string): void;
  /** Aborted when the user leaves the view: its streams and timers stop. */
  signal: AbortSignal;
}

export interface Cluster {
  name: string;
  uuid: string;
  plan_name: string;
  iaas: string;
  owner: string;
  last_action: string | null;
  last_action_state: string | null;
  last_action_description: string | null;
  task_id: number | null;
  kubernetes_master_ips: string[];
  kubernetes_api_vip: string | null;
  network_profile_name: string | null;
  k8s_version: string;
  parameters: {
    kubernetes_master_host: string;
    kubernetes_master_port: number;
    kubernetes_worker_instances: number;
    kubernetes_master_instances: number;
  };
  registry?: { project: string; endpoint: string };
}

export interface Instance {
  id: string;
  name: string;
  group: string;
  vm_cid: string | null;
  ip: string | null;
  state: string;
  last_heartbeat_at: string | null;
  /** The agent's jobs, each with its processes (`unavailable` names why a job cannot run on this VM). */
  processes: Array<{
    name: string;
    unavailable?: string;
    processes?: Array<{ name: string; state: string; reason?: string }>;
  }>;
  persistent_disk: { disk_cid: string; size_mb: number; mounted: boolean } | null;
}

export interface Task {
  id: number;
  type: string;
  cluster_name: string;
  user: string;
  state: string;
  description: string;
  progress: { done: number; total: number };
  steps: Array<{
    name: string;
    state: string;
    detail: string | null;
    started_at: string | null;
    finished_at: string | null;
  }>;
  error: { code: string; message: string; hint?: string } | null;
  log?: Array<{ at: string; level: string; message: string }>;
  created_at: string;
  ended_at: string | null;
}

export interface ClusterEvent {
  at: string;
  kind: string;
  severity: string;
  instance: string | null;
  message: string;
}

export const FINISHED = new Set(['done', 'error', 'cancelled', 'timeout']);
