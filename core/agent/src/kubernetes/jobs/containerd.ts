import { join } from 'node:path';
import type { JobDefinition, RenderContext } from '../job-definition.js';
import { componentVersions } from '../versions.js';

/** Where containerd's socket is on this node: the kubelet's container runtime endpoint. */
export function containerdSocket(context: RenderContext): string {
  return join(context.paths.socketDir, 'containerd', 'containerd.sock');
}

/** containerd with its CRI plugin, config version 2, systemd cgroups, the CNI dirs of the cni job. */
export const containerdJob: JobDefinition = {
  name: 'containerd',
  render(context) {
    const versions = componentVersions(context.cluster.kubernetesVersion);
    const root = join(context.paths.dataDir, 'containerd');
    const state = join(context.paths.socketDir, 'containerd', 'state');
    const config = context.file('config.toml');
    const toml = [
      'version = 2',
      `root = ${quote(root)}`,
      `state = ${quote(state)}`,
      '',
      '[grpc]',
      `  address = ${quote(containerdSocket(context))}`,
      '',
      '[plugins."io.containerd.grpc.v1.cri"]',
      `  sandbox_image = ${quote(`registry.k8s.io/pause:${versions.pause}`)}`,
      '  [plugins."io.containerd.grpc.v1.cri".cni]',
      `    bin_dir = ${quote(context.cni.binDir)}`,
      `    conf_dir = ${quote(context.cni.confDir)}`,
      '  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
      '    runtime_type = "io.containerd.runc.v2"',
      '    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]',
      '      SystemdCgroup = true',
      '',
    ].join('\n');
    return {
      files: [{ path: config, content: toml, mode: 0o644 }],
      directories: [root, state],
      processes: [{
        name: 'containerd',
        binary: 'containerd',
        args: [`--config=${config}`],
        health: { kind: 'unix', path: containerdSocket(context) },
      }],
    };
  },
};

function quote(value: string): string {
  return JSON.stringify(value);
}
