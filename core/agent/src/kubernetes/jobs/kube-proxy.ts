import type { JobDefinition } from '../job-definition.js';
import { configText } from '../config-text.js';
import { kubeconfig } from '../kubeconfig.js';
import { caFile, tlsFiles } from '../tls-files.js';

/** kube-proxy bound to the node's address, in its default mode (iptables on Linux), as kubeadm leaves it. */
export const kubeProxyJob: JobDefinition = {
  name: 'kube-proxy',
  render(context) {
    const { cluster, node } = context;
    const client = tlsFiles(context, 'kube-proxy');
    const ca = caFile(context, 'kubernetes-ca');
    const kubeconfigPath = context.file('kubeconfig');
    const configPath = context.file('config.yaml');
    const config = {
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      bindAddress: node.ip,
      clientConnection: { kubeconfig: kubeconfigPath },
      clusterCIDR: cluster.podCidr,
      healthzBindAddress: `${node.ip}:10256`,
      metricsBindAddress: `${node.ip}:10249`,
      hostnameOverride: node.name,
    };
    return {
      files: [
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
            user: 'system:kube-proxy',
          }),
        },
      ],
      processes: [
        {
          name: 'kube-proxy',
          binary: 'kube-proxy',
          args: [`--config=${configPath}`],
          health: { kind: 'http', url: `http://${node.ip}:10256/healthz` },
        },
      ],
    };
  },
};
