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
  /** What is wrong although it runs (`etcd at /usr/bin/etcd reports version 3.4.23; the catalog wants 3.5.15 …`). */
  warning?: string;
}

export interface JobStatus {
  name: string;
  processes: ProcessStatus[];
  /**
   * Set when the job cannot run on this VM at all (its binaries are not installed): why. Its processes are
   * then reported `unavailable` too; a job without processes (a CNI config) says it only here.
   */
  unavailable?: string;
  /** One-shot actions the job runs once its processes are up (CoreDNS applied once the API answers). */
  hooks?: HookStatus[];
}

export const HOOK_STATES = ['pending', 'done', 'unavailable'] as const;
export type HookState = (typeof HOOK_STATES)[number];

export interface HookStatus {
  name: string;
  state: HookState;
  attempts: number;
  /** The last failure, or why the hook cannot run. */
  reason?: string;
}

export const DRAIN_STATES = ['draining', 'failed', 'drained'] as const;
export type DrainState = (typeof DRAIN_STATES)[number];

/**
 * The agent's account of a drain: `draining` while an attempt runs, `failed` after an attempt failed (the
 * agent retries it with backoff until the desired state changes), `drained` once one succeeded.
 */
export interface DrainReport {
  state: DrainState;
  /** Attempts so far, the running one included. */
  attempts: number;
  /** The last failed attempt's error: kubectl's own message (`error when evicting pods/...`). */
  message?: string;
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
  /** How the drain asked for by a `drained` desired state goes: failed attempts carry kubectl's message. */
  drain?: DrainReport;
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
  /** Cluster settings the jobs render their configs from (typed for Kubernetes jobs: JobProperties). */
  properties?: JobProperties;
}

/**
 * What the control plane sends a VM's jobs to render from: the cluster's settings, this node, the etcd
 * members and the PEMs of the certificates and keys the node's jobs use. Every field is optional so that
 * agents and control planes of different minor versions understand each other; extra keys are kept.
 */
export interface JobProperties {
  cluster?: ClusterSettings;
  node?: NodeSettings;
  etcd?: EtcdSettings;
  /** Certificates and keys by role (`etcd-server`, `kube-apiserver`, `kubelet`...); see TlsMaterial. */
  tls?: Record<string, TlsMaterial>;
  /** The cluster's image registry: containerd trusts `caPem` for `host` and pulls with the robot's login. */
  registry?: RegistrySettings;
  [extra: string]: unknown;
}

export interface RegistrySettings {
  /** `host[:port]` images are pulled from. */
  host: string;
  /** PEM CA of the registry, when it is not publicly trusted. */
  caPem?: string;
  /** The cluster's pull robot (Harbor: `robot$project+nodes-…`). */
  username: string;
  password: string;
}

export interface ClusterSettings {
  /** The cluster's uuid. */
  id: string;
  name: string;
  /** `1.31.4`: picks the binaries. */
  kubernetesVersion: string;
  /** Services' virtual IPs, e.g. 10.100.200.0/24; its first address is the `kubernetes` service. */
  serviceCidr: string;
  /** Pod addresses, e.g. 10.200.0.0/16; each node gets a /24 of it. */
  podCidr: string;
  /** The cluster DNS service address (CoreDNS), inside serviceCidr. */
  clusterDns: string;
  /** Default `cluster.local`. */
  clusterDomain: string;
  /** The name users reach the API at (`kubernetes_master_host`). */
  externalHostname: string;
  /** The API port on every master and on the endpoint (8443, as PKS). */
  apiPort: number;
  /** The URL kubelets and kube-proxy use: the API endpoint (a load balancer or the first master). */
  apiServerUrl: string;
  masters: Array<{ name: string; ip: string }>;
  /**
   * Every node of the cluster (masters and workers) with its address and pod CIDR, as the control plane
   * allocated them: what a node routes other nodes' pods by. Absent from older control planes.
   */
  nodes?: Array<{ name: string; ip: string; podCidr: string }>;
  /** Who routes pod traffic between nodes (absent: `host-routes`). */
  podRouting?: PodRouting;
}

/**
 * `host-routes`: each node's agent routes every other node's pod CIDR via that node's address (flannel's
 * host-gw; needs the nodes on one L2 segment). `network-driver`: the network (NSX-T) routes pod CIDRs and the
 * agent programs nothing. `none`: the CNI in use does its own (Antrea, Calico): the agent programs nothing.
 */
export type PodRouting = 'host-routes' | 'network-driver' | 'none';

export interface NodeSettings {
  /** The Kubernetes node name and etcd member name: `master-0`, `worker-2`. */
  name: string;
  ip: string;
  group: 'master' | 'worker';
  index: number;
  /** This node's share of podCidr (a /24), allocated by the control plane: the kubelet's podCIDR and the CNI's range. */
  podCidr?: string;
}

export interface EtcdSettings {
  /** Every member, this node included, in index order. */
  members: Array<{ name: string; ip: string; peerUrl: string; clientUrl: string }>;
  /** `slipway-{cluster uuid}`: keeps members of two clusters from joining each other. */
  clusterToken: string;
}

/** PEMs of one certificate (with its key and CA) or one key pair. Never logged. */
export interface TlsMaterial {
  /** The CA that signed `certificate` (or the CA itself). */
  ca?: string;
  certificate?: string;
  privateKey?: string;
  /** For key pairs without a certificate (the service-account signing key). */
  publicKey?: string;
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
