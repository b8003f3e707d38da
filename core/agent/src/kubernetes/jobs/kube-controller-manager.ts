import type { JobDefinition } from '../job-definition.js';
import { kubeconfig } from '../kubeconfig.js';
import { caFile, requireRole, tlsFiles } from '../tls-files.js';

/** kube-controller-manager: signs kubelet CSRs with the cluster CA, leader-elected; allocates no pod CIDRs (the control plane does). */
export const kubeControllerManagerJob: JobDefinition = {
  name: 'kube-controller-manager',
  render(context) {
    const { cluster, node } = context;
    const client = tlsFiles(context, 'kube-controller-manager');
    const ca = caFile(context, 'kubernetes-ca');
    const caKey = {
      path: context.file('tls/kubernetes-ca-key.pem'),
      content: requireRole(context.tls, 'kubernetes-ca').privateKey ?? '',
      mode: 0o600,
    };
    const frontProxyCa = caFile(context, 'front-proxy-ca');
    const saKey = {
      path: context.file('tls/service-account-key.pem'),
      content: requireRole(context.tls, 'service-account').privateKey ?? '',
      mode: 0o600,
    };
    const config = context.file('kubeconfig');
    return {
      files: [
        ...client.files,
        ca.file,
        caKey,
        frontProxyCa.file,
        saKey,
        {
          path: config,
          mode: 0o600,
          content: kubeconfig({
            cluster: cluster.name,
            server: `https://${node.ip}:${cluster.apiPort}`,
            caFile: ca.path,
            certFile: client.paths.cert,
            keyFile: client.paths.key,
            user: 'system:kube-controller-manager',
          }),
        },
      ],
      processes: [
        {
          name: 'kube-controller-manager',
          binary: 'kube-controller-manager',
          args: [
            `--kubeconfig=${config}`,
            `--authentication-kubeconfig=${config}`,
            `--authorization-kubeconfig=${config}`,
            `--bind-address=${node.ip}`,
            `--client-ca-file=${ca.path}`,
            `--requestheader-client-ca-file=${frontProxyCa.path}`,
            `--cluster-name=${cluster.name}`,
            `--cluster-signing-cert-file=${ca.path}`,
            `--cluster-signing-key-file=${caKey.path}`,
            `--root-ca-file=${ca.path}`,
            `--service-account-private-key-file=${saKey.path}`,
            '--use-service-account-credentials=true',
            '--controllers=*,bootstrapsigner,tokencleaner',
            '--leader-elect=true',
            // Node pod CIDRs come from the control plane only (rendered into each node's kubelet and CNI config and
            // the other nodes' routes): an allocator here could hand a node a different range than its CNI uses.
            // A CNI that brings its own (Antrea, flannel: podRouting `none`) reads node.spec.podCIDR instead, which
            // then only this allocator sets: still one source.
            `--allocate-node-cidrs=${cluster.podRouting === 'none' ? 'true' : 'false'}`,
            `--cluster-cidr=${cluster.podCidr}`,
            `--service-cluster-ip-range=${cluster.serviceCidr}`,
            '--profiling=false',
          ],
          // Serves a self-signed certificate; /healthz is open (authorization-always-allow-paths).
          health: { kind: 'http', url: `https://${node.ip}:10257/healthz`, insecure: true },
        },
      ],
    };
  },
};
