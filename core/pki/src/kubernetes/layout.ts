import { isIP } from 'node:net';
import { SlipwayError, type CertificateParameters } from '@slipway/contracts';

/** A node of the cluster: its Kubernetes node name and its address. */
export interface KubernetesNode {
  name: string;
  ip: string;
}

export interface KubernetesPkiInput {
  /** The credential path everything lives under, e.g. `/slipway/clusters/{uuid}`. */
  path: string;
  /** The name clients reach the API server at (load balancer or DNS name). */
  externalHostname: string;
  /** Master addresses; used when `masters` is not given (node names then default to `master-N`). */
  masterIps?: string[];
  /** Masters (API server + etcd member each): per-node etcd server/peer and kubelet certificates. */
  masters?: KubernetesNode[];
  /** Workers: per-node kubelet certificates. */
  workers?: KubernetesNode[];
  /** First address of the service CIDR: the in-cluster `kubernetes` service. */
  serviceClusterIp?: string;
  /** Cluster DNS domain; default `cluster.local`. */
  clusterDomain?: string;
  /** Other addresses clients reach the API server at: the load balancer's VIP. */
  apiAddresses?: string[];
  /**
   * Key algorithm of the Kubernetes CA and of the certificates clients outside the cluster see (API server,
   * admin, users): `ecdsa-p256` for new clusters (the default), `rsa` for clusters created before.
   */
  clientKeys?: ClientKeyAlgorithm;
}

export type ClientKeyAlgorithm = 'rsa' | 'ecdsa-p256';

export const DEFAULT_SERVICE_IP = '10.100.200.1';
export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';

/** The cluster's CAs, by their name under the cluster path. */
export const KUBERNETES_CAS = ['kubernetes-ca', 'etcd-ca', 'front-proxy-ca'] as const;
export type KubernetesCa = (typeof KUBERNETES_CAS)[number];

export type PkiEntry =
  | { name: string; type: 'certificate'; parameters: CertificateParameters }
  | { name: string; type: 'rsa'; parameters: { key_length: 2048 | 3072 | 4096 } };

/*
 * Key algorithms. Generating an RSA-2048 key costs about 100 ms of a core here, an ECDSA P-256 key 0.3 ms.
 * Every certificate is ECDSA P-256: Kubernetes and etcd (Go crypto/tls and crypto/x509) accept P-256 for
 * CAs, serving and client certificates everywhere; kubeadm offers it (`encryptionAlgorithm: ECDSA-P256`),
 * the kubelet's own certificate rotation requests P-256 keys, and kubectl, client-go, the Python and Java
 * clients (OpenSSL, JSSE) all negotiate ECDSA. One key stays RSA:
 * - the service-account signing key (type `rsa`): kube-apiserver would accept an ECDSA key (ES256 tokens),
 *   but CredHub's key types have no EC key, and RS256 is the one algorithm every consumer of service-account
 *   tokens through OIDC discovery (cloud workload identity) is required to support. It comes from the
 *   credential provider's in-memory pool of pre-generated RSA keys, so it costs nothing on the critical path.
 *
 * Clusters created before this layout have an RSA Kubernetes CA, and RSA API server, admin and user
 * certificates. Their layout keeps exactly those parameters (`clientKeys: 'rsa'`, detected from the CA
 * itself), so converging an existing cluster reissues nothing.
 */
const EC = { key_algorithm: 'ecdsa-p256' } as const;
const EC_LEAF_USAGE = ['digital_signature'] as const;
const RSA_LEAF_USAGE = ['digital_signature', 'key_encipherment'] as const;

const CA_DAYS = 3650;
const LEAF_DAYS = 365;

/** The in-cluster names of the API server, besides the external host name and addresses. */
export function apiServerNames(domain = DEFAULT_CLUSTER_DOMAIN): string[] {
  return [
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    `kubernetes.default.svc.${domain}`,
    'localhost',
    '127.0.0.1',
  ];
}

/** Masters as given, or named `master-N` after `masterIps`. */
export function mastersOf(input: KubernetesPkiInput): KubernetesNode[] {
  return input.masters ?? (input.masterIps ?? []).map((ip, i) => ({ name: `master-${i}`, ip }));
}

/** Names of a node's credentials under the cluster path. */
export function nodeCredentialNames(nodeName: string): {
  kubelet: string;
  kubeletClient: string;
  etcdServer: string;
  etcdPeer: string;
} {
  const base = `nodes/${nodeName}`;
  return {
    kubelet: `${base}/kubelet`,
    kubeletClient: `${base}/kubelet-client`,
    etcdServer: `${base}/etcd-server`,
    etcdPeer: `${base}/etcd-peer`,
  };
}

/**
 * Every credential a cluster needs, in tiers: a tier's entries depend only on earlier tiers (leaves on
 * their CA), so each tier can be generated in parallel. Names are relative to `input.path`.
 *
 * The Kubernetes CA and API server entries keep the parameters of Slipway's first layout, so converging
 * an existing cluster does not reissue them.
 */
export function kubernetesPkiLayout(input: KubernetesPkiInput): PkiEntry[][] {
  const path = input.path.replace(/\/+$/, '');
  const ca = (name: KubernetesCa) => `${path}/${name}`;
  const masters = mastersOf(input);
  const workers = input.workers ?? [];
  checkNodes([...masters, ...workers]);
  const facing = clientKeyParameters(input.clientKeys);

  const cas: PkiEntry[] = [
    {
      name: 'kubernetes-ca',
      type: 'certificate',
      parameters: { common_name: 'kubernetes-ca', is_ca: true, self_sign: true, duration: CA_DAYS, ...facing.ca },
    },
    {
      name: 'etcd-ca',
      type: 'certificate',
      parameters: { common_name: 'etcd-ca', is_ca: true, self_sign: true, duration: CA_DAYS, ...EC },
    },
    {
      name: 'front-proxy-ca',
      type: 'certificate',
      parameters: { common_name: 'front-proxy-ca', is_ca: true, self_sign: true, duration: CA_DAYS, ...EC },
    },
    // Signs and verifies service-account tokens (--service-account-signing-key-file / --service-account-key-file).
    { name: 'service-account', type: 'rsa', parameters: { key_length: 2048 } },
  ];

  const client = (commonName: string, signer: KubernetesCa, organization?: string): CertificateParameters => ({
    common_name: commonName,
    ...(organization ? { organization } : {}),
    ca: ca(signer),
    duration: LEAF_DAYS,
    key_usage: [...EC_LEAF_USAGE],
    extended_key_usage: ['client_auth'],
    ...EC,
  });

  const leaves: PkiEntry[] = [
    {
      name: 'kube-apiserver',
      type: 'certificate',
      parameters: {
        common_name: 'kube-apiserver',
        ca: ca('kubernetes-ca'),
        duration: LEAF_DAYS,
        alternative_names: unique([
          input.externalHostname,
          ...(input.apiAddresses ?? []),
          ...(input.masters ? masters.map((m) => m.ip) : (input.masterIps ?? [])),
          input.serviceClusterIp ?? DEFAULT_SERVICE_IP,
          ...apiServerNames(input.clusterDomain),
        ]),
        extended_key_usage: ['server_auth'],
        ...facing.leaf,
      },
    },
    {
      name: 'admin',
      type: 'certificate',
      parameters: {
        common_name: 'admin',
        organization: 'system:masters',
        ca: ca('kubernetes-ca'),
        duration: LEAF_DAYS,
        extended_key_usage: ['client_auth'],
        ...facing.leaf,
      },
    },
    // --kubelet-client-certificate: the API server calling kubelets (logs, exec, port-forward).
    {
      name: 'kube-apiserver-kubelet-client',
      type: 'certificate',
      parameters: client('kube-apiserver-kubelet-client', 'kubernetes-ca', 'system:masters'),
    },
    // --etcd-certfile: the API server as an etcd client.
    {
      name: 'kube-apiserver-etcd-client',
      type: 'certificate',
      parameters: client('kube-apiserver-etcd-client', 'etcd-ca'),
    },
    // The operator's etcd client: etcdctl, backups, the agents' etcd health checks.
    { name: 'etcd-client', type: 'certificate', parameters: client('etcd-client', 'etcd-ca') },
    // --proxy-client-cert-file: the aggregation layer; extension API servers trust front-proxy-ca.
    { name: 'front-proxy-client', type: 'certificate', parameters: client('front-proxy-client', 'front-proxy-ca') },
    // Users the default RBAC bindings name (system:kube-controller-manager, system:kube-scheduler, system:node-proxier).
    {
      name: 'kube-controller-manager',
      type: 'certificate',
      parameters: client('system:kube-controller-manager', 'kubernetes-ca'),
    },
    { name: 'kube-scheduler', type: 'certificate', parameters: client('system:kube-scheduler', 'kubernetes-ca') },
    { name: 'kube-proxy', type: 'certificate', parameters: client('system:kube-proxy', 'kubernetes-ca') },
    // Workers' drains (kubectl drain) run as this user, bound to a ClusterRole that may cordon and evict.
    { name: 'drainer', type: 'certificate', parameters: client('system:slipway:drainer', 'kubernetes-ca') },
  ];

  for (const node of masters) {
    const names = nodeCredentialNames(node.name);
    // etcd uses its serving certificate as a client too (its gRPC gateway), so both usages; peers are both sides.
    const etcd = (altNames: string[]): CertificateParameters => ({
      common_name: node.name,
      alternative_names: unique(altNames),
      ca: ca('etcd-ca'),
      duration: LEAF_DAYS,
      key_usage: [...EC_LEAF_USAGE],
      extended_key_usage: ['server_auth', 'client_auth'],
      ...EC,
    });
    leaves.push(
      { name: names.etcdServer, type: 'certificate', parameters: etcd([node.name, node.ip, 'localhost', '127.0.0.1']) },
      { name: names.etcdPeer, type: 'certificate', parameters: etcd([node.name, node.ip]) },
    );
  }
  for (const node of [...masters, ...workers]) {
    const names = nodeCredentialNames(node.name);
    // The Node authorizer identifies kubelets by exactly this subject.
    const subject = { common_name: `system:node:${node.name}`, organization: 'system:nodes' };
    leaves.push(
      {
        name: names.kubelet,
        type: 'certificate',
        parameters: {
          ...subject,
          alternative_names: unique([node.name, node.ip]),
          ca: ca('kubernetes-ca'),
          duration: LEAF_DAYS,
          key_usage: [...EC_LEAF_USAGE],
          extended_key_usage: ['server_auth'],
          ...EC,
        },
      },
      {
        name: names.kubeletClient,
        type: 'certificate',
        parameters: {
          ...subject,
          ca: ca('kubernetes-ca'),
          duration: LEAF_DAYS,
          key_usage: [...EC_LEAF_USAGE],
          extended_key_usage: ['client_auth'],
          ...EC,
        },
      },
    );
  }
  return [cas, leaves];
}

/** Parameters of a user's client certificate for a kubeconfig: CN = user, O = first group; keys as the CA's. */
export function userCertificateParameters(
  path: string,
  username: string,
  groups: readonly string[] = [],
  clientKeys?: ClientKeyAlgorithm,
): CertificateParameters {
  return {
    common_name: username,
    organization: groups[0],
    ca: `${path.replace(/\/+$/, '')}/kubernetes-ca`,
    duration: LEAF_DAYS,
    extended_key_usage: ['client_auth'],
    ...clientKeyParameters(clientKeys).leaf,
  };
}

/**
 * The key parameters of the client-facing entries. The RSA ones are exactly those of Slipway's first layout
 * (no `key_algorithm`), which converge compares against.
 */
function clientKeyParameters(algorithm: ClientKeyAlgorithm = 'ecdsa-p256'): {
  ca: Partial<CertificateParameters>;
  leaf: Partial<CertificateParameters>;
} {
  switch (algorithm) {
    case 'rsa':
      return { ca: {}, leaf: { key_usage: [...RSA_LEAF_USAGE] } };
    case 'ecdsa-p256':
      return { ca: { ...EC }, leaf: { key_usage: [...EC_LEAF_USAGE], ...EC } };
    default:
      throw new SlipwayError('InvalidInput', `clientKeys must be 'rsa' or 'ecdsa-p256'; got ${String(algorithm)}`, {
        field: 'clientKeys',
      });
  }
}

const NODE_NAME = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;

function checkNodes(nodes: KubernetesNode[]): void {
  const seen = new Set<string>();
  for (const node of nodes) {
    if (!NODE_NAME.test(node.name)) {
      throw new SlipwayError(
        'InvalidInput',
        `node name "${node.name}" is not a DNS subdomain (lowercase letters, digits, '-' and '.')`,
        { field: 'nodes.name' },
      );
    }
    if (!isIP(node.ip))
      throw new SlipwayError('InvalidInput', `node ${node.name}: "${node.ip}" is not an IP address`, {
        field: 'nodes.ip',
      });
    if (seen.has(node.name))
      throw new SlipwayError('InvalidInput', `node name ${node.name} appears twice`, { field: 'nodes.name' });
    seen.add(node.name);
  }
}

function unique(values: Array<string | undefined>): string[] {
  return [...new Set(values.filter((v): v is string => Boolean(v)))];
}
