import type { AgentSettings, JobSpec } from '@slipway/contracts';
import type { ProcessSpec } from './process-runner.js';

/** What a job needs to know to describe its processes and drain. */
export interface JobContext {
  settings: AgentSettings;
  /** `DesiredState.properties`: the cluster settings jobs render their configs from. */
  properties: Record<string, unknown>;
}

/** What a job needs on this VM, worked out by a catalog that renders configs (`JobCatalog.plan`). */
export interface JobPlan {
  /** In start order. */
  processes: ProcessSpec[];
  /** Set when the job cannot run here at all (a binary is missing): why. */
  unavailable?: string;
  /** One-shot actions run once the job's processes are started, retried until they succeed. */
  hooks?: HookSpec[];
}

/** A one-shot command of a job (apply the CoreDNS manifests once the API answers). */
export interface HookSpec {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  /** Bound of one attempt; default 60 000. */
  timeoutMs?: number;
  /** Set when the hook's binary is not installed: why. */
  unavailable?: string;
}

/**
 * Maps a job of the desired state to the processes that run it. This is the seam where real Kubernetes jobs
 * (rendered configs, certificates, binaries) plug in; the default runs one process per name. A catalog
 * implements `processes` (nothing to render) or `plan` (renders files, may find the job unavailable).
 */
export interface JobCatalog {
  /** The job's processes, in start order. */
  processes?(job: JobSpec, context: JobContext): ProcessSpec[];
  /** Renders what the job needs on disk and says how to run it; preferred over `processes` when present. */
  plan?(job: JobSpec, context: JobContext & { signal: AbortSignal }): Promise<JobPlan>;
  /**
   * Moves the job's workloads away before the VM stops (a worker's kubelet: cordon and evict). Called when
   * the desired state is `drained`; the agent bounds it with its drain timeout and honours nothing else.
   */
  drain?(job: JobSpec, context: JobContext & { signal: AbortSignal }): Promise<void>;
}

/** One process per name, with the name as its command; draining does nothing. */
export const defaultJobCatalog: JobCatalog = Object.freeze({
  processes(job: JobSpec): ProcessSpec[] {
    return job.processes.map((name) => ({ job: job.name, name, command: name, args: [] }));
  },
});

/**
 * The jobs the control plane sends each instance group by default (agent-protocol.md). The agent reports
 * them as `starting` on boot, before it has heard its desired state.
 */
export const DEFAULT_JOBS: Readonly<Record<AgentSettings['group'], readonly JobSpec[]>> = Object.freeze({
  master: Object.freeze([
    { name: 'etcd', processes: ['etcd'] },
    { name: 'kube-apiserver', processes: ['kube-apiserver'] },
    { name: 'kube-controller-manager', processes: ['kube-controller-manager'] },
    { name: 'kube-scheduler', processes: ['kube-scheduler'] },
    // Masters are nodes too.
    { name: 'containerd', processes: ['containerd'] },
    { name: 'kubelet', processes: ['kubelet'] },
    { name: 'kube-proxy', processes: ['kube-proxy'] },
  ]),
  worker: Object.freeze([
    { name: 'containerd', processes: ['containerd'] },
    { name: 'kubelet', processes: ['kubelet'] },
    { name: 'kube-proxy', processes: ['kube-proxy'] },
  ]),
});

/** A fresh copy of the default jobs of a group, safe to hand out. */
export function defaultJobsFor(group: AgentSettings['group']): JobSpec[] {
  return DEFAULT_JOBS[group].map((job) => ({ name: job.name, processes: [...job.processes] }));
}
