import { join } from 'node:path';
import type { RegistrySettings } from '@slipway/contracts';
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
      ...registryConfig(context),
      '',
    ].join('\n');
    const registry = context.properties.registry;
    return {
      // The config holds the pull robot's secret when the cluster has a registry: readable by root only.
      files: [
        { path: config, content: toml, mode: registry ? 0o600 : 0o644 },
        ...(registry ? registryHostFiles(context, registry) : []),
      ],
      directories: [root, state],
      processes: [
        {
          name: 'containerd',
          binary: 'containerd',
          args: [`--config=${config}`],
          health: { kind: 'unix', path: containerdSocket(context) },
        },
      ],
    };
  },
};

/** containerd's per-registry directory (`config_path`), as `/etc/containerd/certs.d` on a stock node. */
export function registryCertsDir(context: RenderContext): string {
  return context.file('certs.d');
}

/**
 * The CRI plugin's registry section: hosts from `certs.d` (trust, per host), and the pull robot's login for
 * the cluster's registry. containerd 1.6/1.7 read credentials only from config.toml (`configs.<host>.auth`),
 * not from hosts.toml, so the login goes here and the CA there.
 */
function registryConfig(context: RenderContext): string[] {
  const registry = context.properties.registry;
  if (!registry) return [];
  return [
    '  [plugins."io.containerd.grpc.v1.cri".registry]',
    `    config_path = ${quote(registryCertsDir(context))}`,
    `    [plugins."io.containerd.grpc.v1.cri".registry.configs.${quote(registry.host)}.auth]`,
    `      username = ${quote(registry.username)}`,
    `      password = ${quote(registry.password)}`,
  ];
}

/** `certs.d/<host>/hosts.toml` (and the registry's CA beside it): containerd trusts the registry for pulls. */
function registryHostFiles(
  context: RenderContext,
  registry: RegistrySettings,
): Array<{ path: string; content: string; mode: number }> {
  const dir = join(registryCertsDir(context), registry.host);
  const ca = join(dir, 'ca.crt');
  const hosts = [
    `server = ${quote(`https://${registry.host}`)}`,
    '',
    `[host.${quote(`https://${registry.host}`)}]`,
    '  capabilities = ["pull", "resolve"]',
    ...(registry.caPem ? [`  ca = ${quote(ca)}`] : []),
    '',
  ].join('\n');
  return [
    { path: join(dir, 'hosts.toml'), content: hosts, mode: 0o644 },
    ...(registry.caPem ? [{ path: ca, content: registry.caPem, mode: 0o644 }] : []),
  ];
}

function quote(value: string): string {
  return JSON.stringify(value);
}
