import type {
  CertificateValue,
  ClusterSettings,
  CredentialContext,
  CredentialProvider,
  EtcdSettings,
  JobProperties,
  NodeSettings,
  PodRouting,
  RsaValue,
  TlsMaterial,
} from '@slipway/contracts';
import { SlipwayError } from '@slipway/contracts';
import { clusterCredentialPath, clusterTrustBundle, issueClusterPki } from '../cluster-pki.js';
import { nodePodCidr } from './pod-cidrs.js';

export { nodePodCidr } from './pod-cidrs.js';

/** Defaults of PKS's network profile: the `kubernetes` service is the first address of the service CIDR. */
export const DEFAULT_SERVICE_CIDR = '10.100.200.0/24';
export const DEFAULT_POD_CIDR = '10.200.0.0/16';
/** The cluster DNS service (CoreDNS): the tenth address of the service CIDR, as kubeadm picks it. */
export const DEFAULT_CLUSTER_DNS = '10.100.200.10';
export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';
export { KUBERNETES_API_PORT } from '../kubernetes.js';
export const ETCD_CLIENT_PORT = 2379;
export const ETCD_PEER_PORT = 2380;

/** What the properties of one node are built from: the cluster, all its instances, and the node. */
export interface JobPropertiesInput {
  cluster: { uuid: string; name: string; k8s_version: string; external_hostname: string; api_address: string | null };
  instances: Array<{
    id: string;
    group_name: 'master' | 'worker';
    idx: number;
    ip: string | null;
    desired: string;
    pod_cidr?: string | null;
  }>;
  instance: { id: string; group_name: 'master' | 'worker'; idx: number; ip: string | null; pod_cidr?: string | null };
  apiPort: number;
  /**
   * Who routes pod traffic between nodes: the agents with host routes (flat networks), the network driver
   * (one with the `pod-routing` capability, such as NSX-T), or `none`: the CNI the cluster's network profile
   * names (Antrea, flannel). Default `host-routes`.
   */
  podRouting?: PodRouting;
}

/** The pod CIDR of an instance: its allocation; rows made before allocations existed had a worker's /24 by index. */
export function podCidrOfInstance(instance: {
  group_name: 'master' | 'worker';
  idx: number;
  pod_cidr?: string | null;
}): string | undefined {
  if (instance.pod_cidr) return instance.pod_cidr;
  return instance.group_name === 'worker' ? nodePodCidr(DEFAULT_POD_CIDR, instance.idx) : undefined;
}

/** The Kubernetes node name of an instance (also its etcd member name): `master-0`, `worker-3`. */
export function nodeNameOf(instance: { group_name: string; idx: number }): string {
  return `${instance.group_name}-${instance.idx}`;
}

/**
 * Name of the etcd client certificate for operators and health checks (etcdctl, the agent's /health probe),
 * signed by the cluster's etcd CA. The cluster PKI layout has no such certificate yet; this builder issues it.
 */
export const ETCD_CLIENT_CREDENTIAL = 'etcd-client';
/** The drainer's client certificate (CN system:slipway:drainer) under the cluster path. */
export const DRAINER_CREDENTIAL = 'drainer';

/**
 * Builds what a node's jobs render from (DesiredState.properties): the cluster settings, the node, the etcd
 * members and the PEMs of the certificates the node's jobs use, read from the credential provider. The
 * cluster PKI is converged first (idempotent: generates only what is missing, such as a new worker's kubelet
 * certificates), so a node never waits for a credential nobody issued.
 */
export async function buildJobProperties(
  provider: CredentialProvider,
  ctx: CredentialContext,
  input: JobPropertiesInput,
  options: { skipIssue?: boolean } = {},
): Promise<JobProperties> {
  const { cluster, instance } = input;
  if (!instance.ip) throw new SlipwayError('Retryable', `instance ${nodeNameOf(instance)} has no address yet`);
  const present = input.instances.filter((i) => i.desired !== 'absent' && i.ip);
  const masters = present.filter((i) => i.group_name === 'master').sort((a, b) => a.idx - b.idx);
  const workers = present.filter((i) => i.group_name === 'worker').sort((a, b) => a.idx - b.idx);
  if (!masters.length) throw new SlipwayError('Retryable', `cluster ${cluster.name} has no master address yet`);
  const path = clusterCredentialPath(cluster.uuid);
  if (!options.skipIssue) {
    // An API address that is no master's is the load balancer's VIP: it stays in the API server's SANs.
    const vip =
      cluster.api_address && !masters.some((m) => m.ip === cluster.api_address) ? cluster.api_address : undefined;
    await issueClusterPki(provider, ctx, {
      clusterId: cluster.uuid,
      externalHostname: cluster.external_hostname,
      ...(vip ? { apiAddresses: [vip] } : {}),
      masters: masters.map((m) => ({ name: nodeNameOf(m), ip: m.ip! })),
      workers: workers.map((w) => ({ name: nodeNameOf(w), ip: w.ip! })),
    });
  }

  const settings: ClusterSettings = {
    id: cluster.uuid,
    name: cluster.name,
    kubernetesVersion: cluster.k8s_version,
    serviceCidr: DEFAULT_SERVICE_CIDR,
    podCidr: DEFAULT_POD_CIDR,
    clusterDns: DEFAULT_CLUSTER_DNS,
    clusterDomain: DEFAULT_CLUSTER_DOMAIN,
    externalHostname: cluster.external_hostname,
    apiPort: input.apiPort,
    apiServerUrl: `https://${cluster.api_address ?? masters[0]!.ip}:${input.apiPort}`,
    masters: masters.map((m) => ({ name: nodeNameOf(m), ip: m.ip! })),
    // Every node with its pod CIDR: each agent routes to the others' (flat networks), and a node that comes or
    // goes changes this list, so every agent's next sync carries the change.
    nodes: [...masters, ...workers].flatMap((i) => {
      const podCidr = podCidrOfInstance(i);
      return podCidr ? [{ name: nodeNameOf(i), ip: i.ip!, podCidr }] : [];
    }),
    podRouting: input.podRouting ?? 'host-routes',
  };
  const name = nodeNameOf(instance);
  const podCidr = podCidrOfInstance(instance);
  const node: NodeSettings = {
    name,
    ip: instance.ip,
    group: instance.group_name,
    index: instance.idx,
    ...(podCidr ? { podCidr } : {}),
  };
  const properties: JobProperties = {
    cluster: settings,
    node,
    tls: await tlsFor(provider, ctx, cluster.uuid, path, node),
  };
  if (instance.group_name === 'master') {
    const etcd: EtcdSettings = {
      clusterToken: `slipway-${cluster.uuid}`,
      members: masters.map((m) => ({
        name: nodeNameOf(m),
        ip: m.ip!,
        peerUrl: `https://${m.ip}:${ETCD_PEER_PORT}`,
        clientUrl: `https://${m.ip}:${ETCD_CLIENT_PORT}`,
      })),
    };
    properties.etcd = etcd;
  }
  return properties;
}

/** Certificate roles by group, with the credential each is read from (names under the cluster path). */
function rolesOf(node: NodeSettings): Record<string, string> {
  const nodePath = `nodes/${node.name}`;
  // Every node, masters included, runs a kubelet (with the certificates the PKI layout issues per node) and kube-proxy.
  const nodeRoles = {
    kubelet: `${nodePath}/kubelet`,
    'kubelet-client': `${nodePath}/kubelet-client`,
    'kube-proxy': 'kube-proxy',
  };
  if (node.group === 'worker') return nodeRoles;
  return {
    ...nodeRoles,
    'etcd-server': `${nodePath}/etcd-server`,
    'etcd-peer': `${nodePath}/etcd-peer`,
    'etcd-client': ETCD_CLIENT_CREDENTIAL,
    'kube-apiserver': 'kube-apiserver',
    'kube-apiserver-etcd-client': 'kube-apiserver-etcd-client',
    'kube-apiserver-kubelet-client': 'kube-apiserver-kubelet-client',
    'front-proxy-client': 'front-proxy-client',
    'kube-controller-manager': 'kube-controller-manager',
    'kube-scheduler': 'kube-scheduler',
    admin: 'admin',
  };
}

async function tlsFor(
  provider: CredentialProvider,
  ctx: CredentialContext,
  clusterId: string,
  path: string,
  node: NodeSettings,
): Promise<Record<string, TlsMaterial>> {
  const tls: Record<string, TlsMaterial> = {};
  const certificate = async (name: string): Promise<CertificateValue> =>
    (await provider.get(`${path}/${name}`, ctx)).value as CertificateValue;
  await Promise.all(
    Object.entries(rolesOf(node)).map(async ([role, name]) => {
      const value = await certificate(name);
      tls[role] = { ca: value.ca ?? undefined, certificate: value.certificate, privateKey: value.private_key };
    }),
  );
  if (node.group === 'worker') {
    // The identity drains run as (system:slipway:drainer, bound to a ClusterRole that can evict): absent
    // in clusters whose credentials predate it until their next update issues it; the drain then uses the
    // kubelet's own identity, as before.
    const drainer = await provider.get(`${path}/${DRAINER_CREDENTIAL}`, ctx).catch((e: unknown) => {
      if (SlipwayError.is(e, 'NotFound')) return undefined;
      throw e;
    });
    if (drainer) {
      const value = drainer.value as CertificateValue;
      tls.drainer = { ca: value.ca ?? undefined, certificate: value.certificate, privateKey: value.private_key };
    }
  }
  // CAs as trust bundles: during a CA rotation both versions are trusted.
  tls['kubernetes-ca'] = { certificate: await clusterTrustBundle(provider, ctx, clusterId, 'kubernetes-ca') };
  if (node.group === 'master') {
    // kube-controller-manager signs kubelet CSRs with the cluster CA (--cluster-signing-key-file).
    tls['kubernetes-ca'].privateKey = (await certificate('kubernetes-ca')).private_key;
    tls['etcd-ca'] = { certificate: await clusterTrustBundle(provider, ctx, clusterId, 'etcd-ca') };
    tls['front-proxy-ca'] = { certificate: await clusterTrustBundle(provider, ctx, clusterId, 'front-proxy-ca') };
    const sa = (await provider.get(`${path}/service-account`, ctx)).value as RsaValue;
    tls['service-account'] = { publicKey: sa.public_key, privateKey: sa.private_key };
  }
  return tls;
}
