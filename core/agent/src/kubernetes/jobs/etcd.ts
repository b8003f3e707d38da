import { SlipwayError } from '@slipway/contracts';
import { join } from 'node:path';
import type { JobDefinition } from '../job-definition.js';
import { caFile, tlsFiles } from '../tls-files.js';

/**
 * etcd, one member per master, TLS for clients and peers with client-certificate auth on both. Its data
 * lives on the persistent disk, so a recreated master with its disk reattached rejoins as the same member.
 * Flags as etcd's configuration reference and kubeadm's local etcd manifest set them.
 */
export const etcdJob: JobDefinition = {
  name: 'etcd',
  render(context) {
    const etcd = context.etcd;
    if (!etcd?.members.length) throw new SlipwayError('InvalidInput', 'the control plane sent no etcd members');
    const self = etcd.members.find((m) => m.name === context.node.name);
    if (!self) throw new SlipwayError('InvalidInput', `node ${context.node.name} is not in the etcd member list (${etcd.members.map((m) => m.name).join(', ')})`);
    const server = tlsFiles(context, 'etcd-server');
    const peer = tlsFiles(context, 'etcd-peer');
    const client = tlsFiles(context, 'etcd-client');
    const ca = caFile(context, 'etcd-ca');
    const dataDir = join(context.paths.storeDir, 'etcd');
    return {
      files: [...server.files, ...peer.files, ...client.files, ca.file],
      directories: [dataDir],
      processes: [{
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
          ...loopbackPeerFlags(self.ip),
          '--logger=zap',
        ],
        // etcd refuses to start on an architecture it does not support officially (arm64 before 3.5) unless told.
        ...(process.arch === 'x64' ? {} : { env: { ETCD_UNSUPPORTED_ARCH: String(process.arch) } }),
        health: { kind: 'http', url: `${self.clientUrl}/health`, caFile: ca.path, certFile: client.paths.cert, keyFile: client.paths.key, expectBody: '"health":"true"' },
      }],
    };
  },
};

/**
 * Linux sends every connection between two addresses of 127.0.0.0/8 from 127.0.0.1, whatever address the
 * member listens on: peers on loopback addresses (the local driver) never come from the address in their
 * certificate, so etcd's check of the peer certificate's SAN against the source address cannot pass there.
 * The chain, the CA and client-certificate auth still apply. On a real network the check stays on.
 */
export function loopbackPeerFlags(ip: string): string[] {
  return ip.startsWith('127.') && ip !== '127.0.0.1' ? ['--experimental-peer-skip-client-san-verification=true'] : [];
}
