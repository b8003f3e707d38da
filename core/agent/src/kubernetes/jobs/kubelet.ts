import { join } from 'node:path';
import type { HookTemplate, JobDefinition, RenderContext, RenderedFile } from '../job-definition.js';
import { configText } from '../config-text.js';
import { kubeconfig } from '../kubeconfig.js';
import { caFile, tlsFiles } from '../tls-files.js';
import { containerdSocket } from './containerd.js';

/** The label and taint kubeadm gives control-plane nodes (`kubeadm init phase mark-control-plane`). */
export const CONTROL_PLANE_ROLE = 'node-role.kubernetes.io/control-plane';
/** kubeadm also keeps control-plane nodes out of external load balancers' backends. */
export const EXCLUDE_FROM_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

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
      resolvConf: context.host.resolvConf,
      failSwapOn: false,
      // A master registers tainted from its first moment, so nothing is scheduled there before it is marked.
      // Taints are the kubelet's to set; the NodeRestriction admission lets it.
      ...(node.group === 'master' ? { registerWithTaints: [{ key: CONTROL_PLANE_ROLE, effect: 'NoSchedule' }] } : {}),
    };
    const mark = node.group === 'master' ? markControlPlane(context) : undefined;
    return {
      files: [
        ...own.files,
        ...client.files,
        ca.file,
        { path: configPath, content: configText(config), mode: 0o644 },
        {
          path: kubeconfigPath,
          mode: 0o600,
          content: kubeconfig({
            cluster: cluster.name,
            server: cluster.apiServerUrl,
            caFile: ca.path,
            certFile: client.paths.cert,
            keyFile: client.paths.key,
            user: `system:node:${node.name}`,
          }),
        },
        ...(mark?.files ?? []),
        ...(drainer
          ? [
              ...drainer.files,
              {
                path: drainerKubeconfigPath,
                mode: 0o600,
                content: kubeconfig({
                  cluster: cluster.name,
                  server: cluster.apiServerUrl,
                  caFile: ca.path,
                  certFile: drainer.paths.cert,
                  keyFile: drainer.paths.key,
                  user: 'system:slipway:drainer',
                }),
              },
            ]
          : []),
      ],
      ...(mark ? { hooks: [mark.hook] } : {}),
      directories: [rootDir],
      processes: [
        {
          name: 'kubelet',
          binary: 'kubelet',
          args: [
            `--config=${configPath}`,
            `--kubeconfig=${kubeconfigPath}`,
            `--node-ip=${node.ip}`,
            `--hostname-override=${node.name}`,
            `--root-dir=${rootDir}`,
          ],
          health: { kind: 'http', url: `http://${node.ip}:10248/healthz` },
        },
      ],
      drain: {
        name: 'drain',
        binary: 'kubectl',
        args: [
          `--kubeconfig=${drainer ? drainerKubeconfigPath : kubeconfigPath}`,
          'drain',
          node.name,
          '--ignore-daemonsets',
          '--delete-emptydir-data',
          '--force',
          '--timeout=300s',
        ],
      },
    };
  },
};

/**
 * The control-plane label, applied with the admin identity once the node has registered (the hook retries
 * until `kubectl label` finds the node), as kubeadm's mark-control-plane phase does. The kubelet cannot set it
 * itself: it refuses `--node-labels` in the kubernetes.io and k8s.io namespaces except a short allowed list
 * (hostname, arch, os, topology, instance-type, and the `kubelet.kubernetes.io/` and `node.kubernetes.io/`
 * prefixes), and the NodeRestriction admission forbids a kubelet to give itself `node-role.kubernetes.io/*`,
 * so that a compromised node cannot attract control-plane workloads.
 */
function markControlPlane(context: RenderContext): { files: RenderedFile[]; hook: HookTemplate } {
  const { cluster, node } = context;
  const admin = tlsFiles(context, 'admin');
  const ca = caFile(context, 'kubernetes-ca');
  const path = context.file('admin.kubeconfig');
  return {
    files: [
      ...admin.files,
      {
        path,
        mode: 0o600,
        content: kubeconfig({
          cluster: cluster.name,
          server: `https://${node.ip}:${cluster.apiPort}`,
          caFile: ca.path,
          certFile: admin.paths.cert,
          keyFile: admin.paths.key,
          user: 'admin',
        }),
      },
    ],
    hook: {
      name: 'mark-control-plane',
      binary: 'kubectl',
      args: [
        `--kubeconfig=${path}`,
        'label',
        'node',
        node.name,
        `${CONTROL_PLANE_ROLE}=`,
        `${EXCLUDE_FROM_LB_LABEL}=`,
        '--overwrite',
      ],
      timeoutMs: 30_000,
    },
  };
}
