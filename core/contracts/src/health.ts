/**
 * Health: what agents report and what the health monitor derives. Alert sinks (a plugin kind) receive
 * what the health monitor decides is worth a human's attention.
 */

/** Process states as the agent sees them (BOSH monit vocabulary). */
export const PROCESS_STATES = ['starting', 'running', 'failing', 'stopped', 'unavailable'] as const;
export type ProcessState = (typeof PROCESS_STATES)[number];

/** Instance states as the health monitor derives them from heartbeats and the cloud. */
export const INSTANCE_STATES = ['starting', 'running', 'failing', 'unresponsive', 'missing', 'stopped'] as const;
export type InstanceState = (typeof INSTANCE_STATES)[number];

export interface ProcessStatus {
  name: string;
  state: ProcessState;
  /** Restarts by the agent since the job started. */
  restarts: number;
  pid?: number;
  /** Why it is failing or unavailable (`binary etcd not found on PATH`). */
  reason?: string;
}

export interface JobStatus {
  name: string;
  processes: ProcessStatus[];
}

/** One heartbeat: what an agent sends on its channel at least every heartbeat interval. */
export interface Heartbeat {
  agentId: string;
  instanceId: string;
  /** Generation of the desired state the agent has applied. */
  appliedGeneration: number;
  jobs: JobStatus[];
  /** The persistent disk the agent has mounted, if any. */
  persistentDiskId?: string | null;
  /** The agent reports that it has drained (before a stop) its workloads. */
  drained?: boolean;
  uptimeMs?: number;
  /** Load, memory and disk figures, when the agent measures them. */
  vitals?: { load1?: number; memUsedPct?: number; diskUsedPct?: Record<string, number> };
}

/** What the control plane wants an agent to run: returned on its channel. */
export interface DesiredState {
  generation: number;
  /** `running`: run the jobs; `drained`: drain workloads, keep processes; `stopped`: stop everything. */
  state: 'running' | 'drained' | 'stopped';
  jobs: JobSpec[];
  /** Cluster settings the jobs render their configs from. */
  properties?: Record<string, unknown>;
}

export interface JobSpec {
  name: string;
  processes: string[];
}

export type AlertSeverity = 'info' | 'warning' | 'critical';

export interface Alert {
  id: string;
  severity: AlertSeverity;
  title: string;
  summary: string;
  clusterId?: string;
  instanceId?: string;
  createdAt: string;
}

/** An alert sink plugin (email, PagerDuty, a webhook): receives alerts. Must not throw on delivery failure. */
export interface AlertSink {
  send(alert: Alert): Promise<void>;
  destroy(): Promise<void>;
}
