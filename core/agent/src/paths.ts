import { join } from 'node:path';

/**
 * Where the agent keeps what it writes on a VM. On a cloud VM `root` is `/`; the local driver gives each VM
 * its own root directory (its ephemeral disk), so two VMs on one machine never share a file.
 */
export interface AgentPaths {
  root: string;
  /** Pid files of the processes the agent started: what a restarted agent adopts. */
  runDir: string;
  /** The agent's own key and client certificate (`client.pem`, 0600), made and renewed on this VM. */
  identityDir: string;
  /** The last applied desired state, signed (`desired-state.json`, 0600): what jobs start from at a boot without the control plane. */
  desiredStateFile: string;
  /** `{logDir}/{job}/{process}.log`. */
  logDir: string;
  /** `{jobsDir}/{job}/`: rendered configs; `{jobsDir}/{job}/tls/`: certificates and keys (0700 dirs, 0600 keys). */
  jobsDir: string;
  /** The persistent disk's mount point; data that must outlive the VM (etcd) lives here. */
  storeDir: string;
  /** Ephemeral data of jobs (containerd's images, kubelet's pods), lost with the VM. */
  dataDir: string;
  /** Unix sockets and runtime state of jobs (containerd's socket). */
  socketDir: string;
  /** Binaries installed on the image: `{packagesDir}/{package}/{version}/bin` and `{packagesDir}/bin`. */
  packagesDir: string;
}

export function agentPaths(root = '/'): AgentPaths {
  const lib = join(root, 'var', 'lib', 'slipway');
  return {
    root,
    runDir: join(lib, 'agent', 'run'),
    identityDir: join(lib, 'agent', 'identity'),
    desiredStateFile: join(lib, 'agent', 'state', 'desired-state.json'),
    logDir: join(root, 'var', 'log', 'slipway'),
    jobsDir: join(lib, 'jobs'),
    storeDir: join(lib, 'store'),
    dataDir: join(lib, 'data'),
    socketDir: join(root, 'run', 'slipway'),
    packagesDir: join(lib, 'packages'),
  };
}
