import type {
  ClusterSettings,
  EtcdSettings,
  JobProperties,
  Logger,
  NodeSettings,
  TlsMaterial,
} from '@slipway/contracts';
import type { HealthCheck } from '../health-check.js';
import type { AgentPaths } from '../paths.js';

/** A file a job renders, relative to its job directory unless absolute. */
export interface RenderedFile {
  path: string;
  content: string;
  /** 0o600 for keys and kubeconfigs, 0o644 for certificates and plain configs. */
  mode: number;
}

/** A process as a job describes it: the binary by name (found by the catalog), its arguments. */
export interface ProcessTemplate {
  name: string;
  binary: string;
  args: string[];
  env?: Record<string, string>;
  health?: HealthCheck;
}

export interface HookTemplate {
  name: string;
  binary: string;
  args: string[];
  timeoutMs?: number;
}

export interface RenderedJob {
  files: RenderedFile[];
  processes: ProcessTemplate[];
  hooks?: HookTemplate[];
  /** Directories the job's processes write to (data dirs), created 0700 before they start. */
  directories?: string[];
  /** Binaries the job needs that are not a process's own (CNI plugins). */
  extraBinaries?: Array<{ name: string; dirs: string[] }>;
  /** How to drain the job's workloads before the VM stops. */
  drain?: HookTemplate;
}

/** The settings of a render: the desired state's properties, checked, and where the job's files go. */
export interface RenderContext {
  cluster: ClusterSettings;
  node: NodeSettings;
  etcd?: EtcdSettings;
  tls: Record<string, TlsMaterial>;
  properties: JobProperties;
  paths: AgentPaths;
  /** `{jobsDir}/{job}`. */
  jobDir: string;
  /** Absolute path of a file of this job. */
  file(relative: string): string;
  /** Absolute path of another job's file (the kubelet reads containerd's socket path). */
  jobFile(job: string, relative: string): string;
  /** The directory CNI plugins are looked up in, and where the CNI config goes. */
  cni: { binDir: string; confDir: string };
  /** What the VM itself offers, found at render time. */
  host: HostFacts;
}

/** Facts of the VM a render depends on, detected by the agent where it runs. */
export interface HostFacts {
  /**
   * The resolv.conf naming the node's real upstream resolvers: `/run/systemd/resolve/resolv.conf` where
   * systemd-resolved runs (Ubuntu), whose `/etc/resolv.conf` names only its stub at 127.0.0.53 — a loop
   * once CoreDNS forwards to it from a pod — else `/etc/resolv.conf`.
   */
  resolvConf: string;
}

/** One job of a Kubernetes node: what kubo-release called a job, rendered from the cluster's settings. */
export interface JobDefinition {
  name: string;
  render(context: RenderContext): RenderedJob;
  /**
   * What the job must learn on the VM before its processes start (etcd asks its peers whether it joins as a
   * new member), after its files are written; returns the job as it must run. Not called by `render`.
   */
  prepare?(
    context: RenderContext,
    rendered: RenderedJob,
    options: { logger?: Logger; signal: AbortSignal },
  ): Promise<RenderedJob>;
}
