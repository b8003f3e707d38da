import type { JobDefinition } from '../job-definition.js';
import { caFile, ensureNewline, requireRole, tlsFiles } from '../tls-files.js';

/** kube-apiserver on every master, flags as kubeadm's static pod sets them (Node,RBAC; front proxy; SA keys). */
export const kubeApiserverJob: JobDefinition = {
  name: 'kube-apiserver',
  render(context) {
    const { cluster, node } = context;
    const serving = tlsFiles(context, 'kube-apiserver');
    const etcdClient = tlsFiles(context, 'kube-apiserver-etcd-client');
    const kubeletClient = tlsFiles(context, 'kube-apiserver-kubelet-client');
    const proxyClient = tlsFiles(context, 'front-proxy-client');
    const kubernetesCa = caFile(context, 'kubernetes-ca');
    const etcdCa = caFile(context, 'etcd-ca');
    const frontProxyCa = caFile(context, 'front-proxy-ca');
    const sa = requireRole(context.tls, 'service-account');
    const saPub = {
      path: context.file('tls/service-account.pub'),
      content: ensureNewline(sa.publicKey ?? ''),
      mode: 0o644,
    };
    const saKey = {
      path: context.file('tls/service-account-key.pem'),
      content: ensureNewline(sa.privateKey ?? ''),
      mode: 0o600,
    };
    const etcdServers = (context.etcd?.members ?? []).map((m) => m.clientUrl).join(',');
    return {
      files: [
        ...serving.files,
        ...etcdClient.files,
        ...kubeletClient.files,
        ...proxyClient.files,
        kubernetesCa.file,
        etcdCa.file,
        frontProxyCa.file,
        saPub,
        saKey,
      ],
      processes: [
        {
          name: 'kube-apiserver',
          binary: 'kube-apiserver',
          args: [
            `--advertise-address=${node.ip}`,
            `--bind-address=${node.ip}`,
            `--secure-port=${cluster.apiPort}`,
            '--allow-privileged=true',
            '--authorization-mode=Node,RBAC',
            '--enable-admission-plugins=NodeRestriction',
            `--client-ca-file=${kubernetesCa.path}`,
            `--tls-cert-file=${serving.paths.cert}`,
            `--tls-private-key-file=${serving.paths.key}`,
            `--etcd-servers=${etcdServers}`,
            `--etcd-cafile=${etcdCa.path}`,
            `--etcd-certfile=${etcdClient.paths.cert}`,
            `--etcd-keyfile=${etcdClient.paths.key}`,
            `--kubelet-client-certificate=${kubeletClient.paths.cert}`,
            `--kubelet-client-key=${kubeletClient.paths.key}`,
            '--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname',
            `--proxy-client-cert-file=${proxyClient.paths.cert}`,
            `--proxy-client-key-file=${proxyClient.paths.key}`,
            `--requestheader-client-ca-file=${frontProxyCa.path}`,
            '--requestheader-allowed-names=front-proxy-client',
            '--requestheader-extra-headers-prefix=X-Remote-Extra-',
            '--requestheader-group-headers=X-Remote-Group',
            '--requestheader-username-headers=X-Remote-User',
            `--service-account-issuer=https://kubernetes.default.svc.${cluster.clusterDomain}`,
            `--service-account-key-file=${saPub.path}`,
            `--service-account-signing-key-file=${saKey.path}`,
            `--service-cluster-ip-range=${cluster.serviceCidr}`,
            '--profiling=false',
          ],
          // /livez is readable without credentials (system:public-info-viewer).
          health: { kind: 'http', url: `https://${node.ip}:${cluster.apiPort}/livez`, caFile: kubernetesCa.path },
        },
      ],
    };
  },
};
