/**
 * What the control plane gives a VM at createVm: the node agent's bootstrap settings. The IaaS driver
 * delivers them the way its cloud delivers user data; the agent reads them back through a MetadataSource.
 *
 * User data is readable by anyone with read access to the cloud (and often by the VM's pods), so it carries
 * no private key: only where the control plane is, how to trust it, who this VM is, and a one-time token.
 * The agent makes its own key pair on the VM and trades the token and a CSR for a short-lived client
 * certificate at `POST /agent/v1/bootstrap` (as kubelet's TLS bootstrap does), then renews it over mTLS.
 */
export interface AgentSettings {
  /** Unique per VM incarnation; the agent's identity in heartbeats and the CN of its client certificate. */
  agentId: string;
  clusterId: string;
  instanceId: string;
  /** The instance group: `master` runs etcd and the control plane, `worker` runs kubelet. */
  group: 'master' | 'worker';
  index: number;
  controlPlane: {
    /** Base URL of the agent channel, e.g. https://127.0.0.1:9021 */
    url: string;
    /** PEM of the CA that signed the control plane's serving certificate. */
    caPem: string;
  };
  /** The one-time credential the agent trades for its client certificate. */
  bootstrap: AgentBootstrapToken;
  network: { ip: string; netmask?: string; gateway?: string; dns?: string[] };
  /** Persistent disk id the agent should mount (by id), if any. */
  persistentDiskId?: string;
  /**
   * A smaller disk attached beside `persistentDiskId` whose content the agent copies onto it once, before
   * mounting it (a disk grown on a cloud that cannot resize in place).
   */
  persistentDiskCopyFrom?: string;
  heartbeatIntervalMs: number;
}

/**
 * A bootstrap token: random (256 bits), valid once, for this agent id only, until `expiresAt`. The control
 * plane keeps only its SHA-256. Once the agent holds a certificate it never needs the token again; a VM
 * recreated for the same instance gets a new agent id and a new token.
 */
export interface AgentBootstrapToken {
  token: string;
  /** ISO-8601 time after which the control plane refuses the token (the agent says so in its log). */
  expiresAt: string;
}

/** `POST /agent/v1/bootstrap` body: a token and a PKCS#10 request whose subject CN is the agent id. */
export interface AgentBootstrapRequest {
  agentId: string;
  token: string;
  /** PEM `CERTIFICATE REQUEST`, ECDSA P-256 key made on the VM. */
  csr: string;
}

/** `POST /agent/v1/renew` body (over mTLS with the current certificate): a CSR for a new key pair. */
export interface AgentRenewRequest {
  csr: string;
}

/** What bootstrap and renew answer: the signed client certificate (PEM) and its validity. */
export interface AgentCertificateGrant {
  certificate: string;
  serial: string;
  notBefore: string;
  notAfter: string;
}

/** Where an agent finds its settings on boot: a cloud metadata service, a config drive, a file. */
export interface MetadataSource {
  /** A name for logs: `ec2-imds`, `gce-metadata`, `file`. */
  readonly kind: string;
  /** The raw user data the driver delivered, decoded to the settings JSON. */
  readSettings(signal?: AbortSignal): Promise<AgentSettings>;
  /** The VM id as the cloud knows it, when the metadata service says. */
  instanceId?(signal?: AbortSignal): Promise<string | undefined>;
  /**
   * Where an attached persistent disk shows up on this VM, when the cloud's metadata says (the local
   * driver's directory disks, a cloud that publishes device names). Undefined while it is not attached;
   * agents without this method look the disk up by id under /dev/disk/by-id.
   */
  locateDisk?(diskId: string, signal?: AbortSignal): Promise<DiskLocation | undefined>;
}

/** An attached persistent disk as the agent finds it: a block device to format once and mount, or a directory. */
export type DiskLocation = { kind: 'device'; path: string } | { kind: 'directory'; path: string };

/** Encodes settings for a user-data field; agents decode with `decodeAgentSettings`. */
export function encodeAgentSettings(settings: AgentSettings): string {
  return Buffer.from(JSON.stringify(settings), 'utf8').toString('base64');
}

export function decodeAgentSettings(data: string): AgentSettings {
  const text = data.trimStart().startsWith('{') ? data : Buffer.from(data, 'base64').toString('utf8');
  return JSON.parse(text) as AgentSettings;
}
