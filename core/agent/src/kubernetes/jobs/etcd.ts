import { SlipwayError } from '@slipway/contracts';
import { join } from 'node:path';
import type { JobDefinition, RenderContext, RenderedJob } from '../job-definition.js';
import { prepareEtcdMember, type EtcdBootstrap } from '../etcd-membership.js';
import { caFile, requireRole, tlsFiles } from '../tls-files.js';

/** kubeadm's etcd metrics and health port (plain HTTP, loopback only). */
export const ETCD_METRICS_PORT = 2381;

/**
 * etcd, one member per master, TLS for clients and peers with client-certificate auth on both. Its data
 * lives on the persistent disk, so a recreated master with its disk reattached rejoins as the same member;
 * a master whose disk was lost is removed and added back as a new member (`prepare`). Flags as kubeadm
 * 1.31's local etcd manifest sets them (docs/kubernetes.md lists where and why they differ). The
 * `--experimental-*` names are those of etcd 3.4 and 3.5, the versions Kubernetes 1.29 to 1.32 ship with;
 * etcd 3.6 renames them (feature gates, `--watch-progress-notify-interval`).
 */
export const etcdJob: JobDefinition = {
  name: 'etcd',
  render(context) {
    const etcd = context.etcd;
    if (!etcd?.members.length) throw new SlipwayError('InvalidInput', 'the control plane sent no etcd members');
    const self = etcd.members.find((m) => m.name === context.node.name);
    if (!self)
      throw new SlipwayError(
        'InvalidInput',
        `node ${context.node.name} is not in the etcd member list (${etcd.members.map((m) => m.name).join(', ')})`,
      );
    const server = tlsFiles(context, 'etcd-server');
    const peer = tlsFiles(context, 'etcd-peer');
    const client = tlsFiles(context, 'etcd-client');
    const ca = caFile(context, 'etcd-ca');
    const dataDir = etcdDataDir(context);
    return {
      files: [...server.files, ...peer.files, ...client.files, ca.file],
      directories: [dataDir],
      processes: [
        {
          name: 'etcd',
          binary: 'etcd',
          args: [
            `--name=${self.name}`,
            `--data-dir=${dataDir}`,
            `--listen-client-urls=${self.clientUrl}`,
            `--advertise-client-urls=${self.clientUrl}`,
            `--listen-peer-urls=${self.peerUrl}`,
            `--initial-advertise-peer-urls=${self.peerUrl}`,
            `--initial-cluster=${etcd.members.map((m) => `${m.name}=${m.peerUrl}`).join(',')}`,
            '--initial-cluster-state=new',
            `--initial-cluster-token=${etcd.clusterToken}`,
            `--cert-file=${server.paths.cert}`,
            `--key-file=${server.paths.key}`,
            `--trusted-ca-file=${ca.path}`,
            '--client-cert-auth=true',
            `--peer-cert-file=${peer.paths.cert}`,
            `--peer-key-file=${peer.paths.key}`,
            `--peer-trusted-ca-file=${ca.path}`,
            '--peer-client-cert-auth=true',
            '--snapshot-count=10000',
            `--listen-metrics-urls=http://${metricsAddress(self.ip)}:${ETCD_METRICS_PORT}`,
            // Checks the data against its peers' before serving: a corrupted member refuses to start.
            '--experimental-initial-corrupt-check=true',
            // Idle watches get progress notifications, so the API server's watch cache knows how current it is.
            '--experimental-watch-progress-notify-interval=5s',
            ...loopbackPeerFlags(self.ip),
            '--logger=zap',
          ],
          // etcd refuses to start on an architecture it does not support officially (arm64 before 3.5) unless told.
          ...(process.arch === 'x64' ? {} : { env: { ETCD_UNSUPPORTED_ARCH: String(process.arch) } }),
          health: {
            kind: 'http',
            url: `${self.clientUrl}/health`,
            caFile: ca.path,
            certFile: client.paths.cert,
            keyFile: client.paths.key,
            expectBody: '"health":"true"',
          },
        },
      ],
    };
  },
  async prepare(context, rendered, options) {
    const etcd = context.etcd!;
    const self = etcd.members.find((m) => m.name === context.node.name)!;
    const client = requireRole(context.tls, 'etcd-client');
    const ca = requireRole(context.tls, 'etcd-ca');
    const bootstrap = await prepareEtcdMember({
      self,
      etcd,
      dataDir: etcdDataDir(context),
      storeDir: context.paths.storeDir,
      tls: { ca: ca.certificate ?? ca.ca ?? '', cert: client.certificate ?? '', key: client.privateKey ?? '' },
      signal: options.signal,
      ...(options.logger ? { logger: options.logger } : {}),
    });
    return withBootstrap(rendered, bootstrap);
  },
};

export function etcdDataDir(context: RenderContext): string {
  return join(context.paths.storeDir, 'etcd');
}

/**
 * Where the metrics listener binds: loopback, as kubeadm does, except on a node whose own address is a
 * loopback alias (the local driver's VMs share the host's network stack, so every member would want
 * 127.0.0.1:2381): there, the node's own address.
 */
export function metricsAddress(ip: string): string {
  return isLoopbackAlias(ip) ? ip : '127.0.0.1';
}

function isLoopbackAlias(ip: string): boolean {
  return ip.startsWith('127.') && ip !== '127.0.0.1';
}

/** Replaces the bootstrap flags of a rendered etcd by what `prepareEtcdMember` decided. */
export function withBootstrap(rendered: RenderedJob, bootstrap: EtcdBootstrap): RenderedJob {
  if (bootstrap.state === 'new') return rendered;
  return {
    ...rendered,
    processes: rendered.processes.map((process) =>
      process.name !== 'etcd'
        ? process
        : {
            ...process,
            args: process.args.map((arg) => {
              if (arg.startsWith('--initial-cluster-state=')) return '--initial-cluster-state=existing';
              if (arg.startsWith('--initial-cluster=')) return `--initial-cluster=${bootstrap.initialCluster}`;
              return arg;
            }),
          },
    ),
  };
}

/**
 * Linux sends every connection between two addresses of 127.0.0.0/8 from 127.0.0.1, whatever address the
 * member listens on: peers on loopback addresses (the local driver) never come from the address in their
 * certificate, so etcd's check of the peer certificate's SAN against the source address cannot pass there.
 * The chain, the CA and client-certificate auth still apply. On a real network the check stays on.
 */
export function loopbackPeerFlags(ip: string): string[] {
  return isLoopbackAlias(ip) ? ['--experimental-peer-skip-client-san-verification=true'] : [];
}
