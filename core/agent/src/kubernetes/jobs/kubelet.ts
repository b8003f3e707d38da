import { join } from 'node:path';
import type { JobDefinition } from '../job-definition.js';
import { configText } from '../config-text.js';
import { kubeconfig } from '../kubeconfig.js';
import { caFile, tlsFiles } from '../tls-files.js';
import { containerdSocket } from './containerd.js';

/**
 * The kubelet: x509 client auth from the cluster CA, webhook authn/authz, the node's serving certificate
 * and its API client certificate (CN system:node:NAME, O system:nodes, for the Node authorizer). Drains
 * with kubectl before the VM stops.
 */
export const kubeletJob: JobDefinition = {
  name: 'kubelet',
  render(context) {
    const { cluster, node } = context;
    const own = tlsFiles(context, 'kubelet');
    const client = tlsFiles(context, 'kubelet-client');
    const ca = caFile(context, 'kubernetes-ca');
    const kubeconfigPath = context.file('kubeconfig');
    const configPath = context.file('config.yaml');
    const rootDir = join(context.paths.dataDir, 'kubelet');
    // The drain's own identity (system:slipway:drainer), when the control plane sent it: the Node authorizer
    // lets a kubelet's identity neither evict pods nor list other nodes' ones.
    const drainer = context.tls.drainer ? tlsFiles(context, 'drainer') : undefined;
    const drainerKubeconfigPath = context.file('drainer.kubeconfig');
    const config = {
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      address: node.ip,
      port: 10250,
      healthzBindAddress: node.ip,
      healthzPort: 10248,
      authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: ca.path } },
      authorization: { mode: 'Webhook' },
      cgroupDriver: 'systemd',
      clusterDNS: [cluster.clusterDns],
      clusterDomain: cluster.clusterDomain,
      containerRuntimeEndpoint: `unix://${containerdSocket(context)}`,
      tlsCertFile: own.paths.cert,
      tlsPrivateKeyFile: own.paths.key,
      rotateCertificates: false,
      serverTLSBootstrap: false,
      podCIDR: node.podCidr,
      resolvConf: '/etc/resolv.conf',
      failSwapOn: false,
    };
    return {
      files: [
        ...own.files, ...client.files, ca.file,
        { path: configPath, content: configText(config), mode: 0o644 },
        { path: kubeconfigPath, mode: 0o600, content: kubeconfig({ cluster: cluster.name, server: cluster.apiServerUrl, caFile: ca.path, certFile: client.paths.cert, keyFile: client.paths.key, user: `system:node:${node.name}` }) },
        ...(drainer ? [
          ...drainer.files,
          { path: drainerKubeconfigPath, mode: 0o600, content: kubeconfig({ cluster: cluster.name, server: cluster.apiServerUrl, caFile: ca.path, certFile: drainer.paths.cert, keyFile: drainer.paths.key, user: 'system:slipway:drainer' }) },
        ] : []),
      ],
      directories: [rootDir],
      processes: [{
        name: 'kubelet',
        binary: 'kubelet',
        args: [`--config=${configPath}`, `--kubeconfig=${kubeconfigPath}`, `--node-ip=${node.ip}`, `--hostname-override=${node.name}`, `--root-dir=${rootDir}`],
        health: { kind: 'http', url: `http://${node.ip}:10248/healthz` },
      }],
      drain: {
        name: 'drain',
        binary: 'kubectl',
        args: [`--kubeconfig=${drainer ? drainerKubeconfigPath : kubeconfigPath}`, 'drain', node.name, '--ignore-daemonsets', '--delete-emptydir-data', '--force', '--timeout=300s'],
      },
    };
  },
};
