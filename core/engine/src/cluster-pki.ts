import type { CertificateParameters, Credential, CredentialContext, CredentialProvider } from '@slipway/contracts';

export interface ClusterPkiInput {
  clusterId: string;
  externalHostname: string;
  masterIps: string[];
  /** First address of the service CIDR: the in-cluster `kubernetes` service. */
  serviceClusterIp?: string;
}

export const DEFAULT_SERVICE_IP = '10.100.200.1';

export function clusterCredentialPath(clusterId: string): string {
  return `/slipway/clusters/${clusterId}`;
}

export function clusterCaName(clusterId: string): string {
  return `${clusterCredentialPath(clusterId)}/kubernetes-ca`;
}

interface CertificateEntry {
  /** Name under the cluster's path. */
  name: string;
  parameters(input: ClusterPkiInput, path: string): CertificateParameters;
}

const API_SERVER_NAMES = ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'localhost', '127.0.0.1'];

/** CAs first: leaves are signed by them, so each tier generates after the one before, in parallel within. */
const CAS: CertificateEntry[] = [
  { name: 'kubernetes-ca', parameters: () => ({ common_name: 'kubernetes-ca', is_ca: true, self_sign: true, duration: 3650 }) },
];

const LEAVES: CertificateEntry[] = [
  {
    name: 'kube-apiserver',
    parameters: (input, path) => ({
      common_name: 'kube-apiserver', ca: `${path}/kubernetes-ca`, duration: 365,
      alternative_names: unique([input.externalHostname, ...input.masterIps, input.serviceClusterIp ?? DEFAULT_SERVICE_IP, ...API_SERVER_NAMES]),
      key_usage: ['digital_signature', 'key_encipherment'], extended_key_usage: ['server_auth'],
    }),
  },
  {
    name: 'admin',
    parameters: (_input, path) => ({
      common_name: 'admin', organization: 'system:masters', ca: `${path}/kubernetes-ca`, duration: 365,
      key_usage: ['digital_signature', 'key_encipherment'], extended_key_usage: ['client_auth'],
    }),
  },
];

/**
 * Issues a cluster's PKI through the credential provider. Converge mode makes a re-run (a resumed task)
 * return what exists instead of reissuing, and reissue only what changed (a new master IP in the SANs).
 */
export async function issueClusterPki(provider: CredentialProvider, ctx: CredentialContext, input: ClusterPkiInput): Promise<string[]> {
  const path = clusterCredentialPath(input.clusterId);
  const names: string[] = [];
  for (const tier of [CAS, LEAVES]) {
    await Promise.all(tier.map(async (entry) => {
      const name = `${path}/${entry.name}`;
      await provider.generate({ name, type: 'certificate', parameters: entry.parameters(input, path), mode: 'converge' }, ctx);
      names.push(name);
    }));
  }
  return names;
}

/** A client certificate for a user (CN = user name, O = groups) signed by the cluster CA, for kubeconfigs. */
export async function issueUserCertificate(provider: CredentialProvider, ctx: CredentialContext, clusterId: string, username: string, groups: string[] = []): Promise<Credential<'certificate'>> {
  return provider.generate({
    name: `${clusterCredentialPath(clusterId)}/users/${username}`,
    type: 'certificate',
    mode: 'converge',
    parameters: {
      common_name: username, organization: groups[0], ca: clusterCaName(clusterId), duration: 365,
      key_usage: ['digital_signature', 'key_encipherment'], extended_key_usage: ['client_auth'],
    },
  }, ctx);
}

function unique(values: string[]): string[] {
  return [...new Set(values.filter(Boolean))];
}
