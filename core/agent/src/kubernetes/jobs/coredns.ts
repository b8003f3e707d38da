import type { ClusterSettings } from '@slipway/contracts';
import type { JobDefinition } from '../job-definition.js';
import { configText } from '../config-text.js';
import { kubeconfig } from '../kubeconfig.js';
import { caFile, tlsFiles } from '../tls-files.js';
import { componentVersions } from '../versions.js';

/**
 * CoreDNS, applied once the API answers: the first master renders the manifests kubeadm's DNS addon uses and
 * a hook applies them with kubectl until it succeeds. The other masters render nothing to apply, so a
 * cluster applies it once (applying again is harmless: kubectl apply is idempotent).
 */
export const corednsJob: JobDefinition = {
  name: 'coredns',
  render(context) {
    if (context.node.index !== 0) return { files: [], processes: [] };
    const { cluster, node } = context;
    const admin = tlsFiles(context, 'admin');
    const ca = caFile(context, 'kubernetes-ca');
    const kubeconfigPath = context.file('admin.kubeconfig');
    const manifest = context.file('coredns.yaml');
    return {
      files: [
        ...admin.files,
        ca.file,
        {
          path: kubeconfigPath,
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
        { path: manifest, mode: 0o644, content: configText(corednsManifest(cluster)) },
      ],
      processes: [],
      hooks: [
        {
          name: 'apply-coredns',
          binary: 'kubectl',
          args: [`--kubeconfig=${kubeconfigPath}`, 'apply', '--server-side', '--force-conflicts', '-f', manifest],
          timeoutMs: 60_000,
        },
      ],
    };
  },
};

/** The DNS addon: service account, RBAC, Corefile, deployment of two replicas and the kube-dns service. */
export function corednsManifest(cluster: ClusterSettings): unknown {
  const image = `registry.k8s.io/coredns/coredns:v${componentVersions(cluster.kubernetesVersion).coredns}`;
  const labels = { 'k8s-app': 'kube-dns' };
  const corefile = renderCorefile(cluster);
  return {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'coredns', namespace: 'kube-system' } },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'system:coredns', labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } },
        rules: [
          { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
          { apiGroups: [''], resources: ['nodes'], verbs: ['get'] },
          { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
        ],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: {
          name: 'system:coredns',
          labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
          annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
        },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' },
        subjects: [{ kind: 'ServiceAccount', name: 'coredns', namespace: 'kube-system' }],
      },
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'coredns', namespace: 'kube-system' },
        data: { Corefile: corefile },
      },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'coredns', namespace: 'kube-system', labels },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
          template: {
            metadata: { labels },
            spec: {
              serviceAccountName: 'coredns',
              priorityClassName: 'system-cluster-critical',
              // Masters are tainted nodes: DNS may run there before any worker has joined, as kubeadm allows.
              tolerations: [
                { key: 'CriticalAddonsOnly', operator: 'Exists' },
                { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' },
              ],
              nodeSelector: { 'kubernetes.io/os': 'linux' },
              // Two replicas on two nodes where possible, so one node's loss leaves DNS answering.
              affinity: {
                podAntiAffinity: {
                  preferredDuringSchedulingIgnoredDuringExecution: [
                    {
                      weight: 100,
                      podAffinityTerm: {
                        labelSelector: { matchExpressions: [{ key: 'k8s-app', operator: 'In', values: ['kube-dns'] }] },
                        topologyKey: 'kubernetes.io/hostname',
                      },
                    },
                  ],
                },
              },
              containers: [
                {
                  name: 'coredns',
                  image,
                  imagePullPolicy: 'IfNotPresent',
                  args: ['-conf', '/etc/coredns/Corefile'],
                  ports: [
                    { containerPort: 53, name: 'dns', protocol: 'UDP' },
                    { containerPort: 53, name: 'dns-tcp', protocol: 'TCP' },
                    { containerPort: 9153, name: 'metrics', protocol: 'TCP' },
                  ],
                  resources: { limits: { memory: '170Mi' }, requests: { cpu: '100m', memory: '70Mi' } },
                  volumeMounts: [{ name: 'config-volume', mountPath: '/etc/coredns', readOnly: true }],
                  livenessProbe: {
                    httpGet: { path: '/health', port: 8080, scheme: 'HTTP' },
                    initialDelaySeconds: 60,
                    timeoutSeconds: 5,
                    successThreshold: 1,
                    failureThreshold: 5,
                  },
                  readinessProbe: { httpGet: { path: '/ready', port: 8181, scheme: 'HTTP' } },
                  securityContext: {
                    allowPrivilegeEscalation: false,
                    capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] },
                    readOnlyRootFilesystem: true,
                  },
                },
              ],
              dnsPolicy: 'Default',
              volumes: [
                {
                  name: 'config-volume',
                  configMap: { name: 'coredns', items: [{ key: 'Corefile', path: 'Corefile' }] },
                },
              ],
            },
          },
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: {
          name: 'kube-dns',
          namespace: 'kube-system',
          labels: { ...labels, 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' },
          annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' },
        },
        spec: {
          selector: labels,
          clusterIP: cluster.clusterDns,
          ports: [
            { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
            { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
            { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
          ],
        },
      },
    ],
  };
}

/**
 * The Corefile kubeadm 1.31 writes, in CoreDNS's documented form: a server block for the root zone on port
 * 53, one plugin per line, and a plugin's options in a block whose `{` ends the plugin's line and whose `}`
 * stands on its own line. The Caddyfile grammar has no `;` separator: `pods insecure; fallthrough` would be
 * read as the pods mode `insecure;`, which the kubernetes plugin refuses, and CoreDNS would crash-loop.
 * `forward . /etc/resolv.conf` is the pod's resolv.conf: with `dnsPolicy: Default` that is the file the
 * kubelet's `resolvConf` names, the node's upstream resolver.
 */
export function renderCorefile(cluster: Pick<ClusterSettings, 'clusterDomain'>): string {
  return [
    '.:53 {',
    '    errors',
    '    health {',
    '       lameduck 5s',
    '    }',
    '    ready',
    `    kubernetes ${cluster.clusterDomain} in-addr.arpa ip6.arpa {`,
    '       pods insecure',
    '       fallthrough in-addr.arpa ip6.arpa',
    '       ttl 30',
    '    }',
    '    prometheus :9153',
    '    forward . /etc/resolv.conf {',
    '       max_concurrent 1000',
    '    }',
    '    cache 30',
    '    loop',
    '    reload',
    '    loadbalance',
    '}',
    '',
  ].join('\n');
}
