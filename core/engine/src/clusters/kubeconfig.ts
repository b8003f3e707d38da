import type { CertificateValue } from '@slipway/contracts';

export interface Kubeconfig {
  apiVersion: 'v1';
  kind: 'Config';
  clusters: Array<{ name: string; cluster: { server: string; 'certificate-authority-data': string } }>;
  users: Array<{ name: string; user: { 'client-certificate-data': string; 'client-key-data': string } }>;
  contexts: Array<{ name: string; context: { cluster: string; user: string } }>;
  'current-context': string;
  preferences: Record<string, never>;
}

const b64 = (pem: string) => Buffer.from(pem, 'utf8').toString('base64');

/** A kubeconfig for one user of one cluster; context and cluster are named after the cluster, as pks did. */
export function buildKubeconfig(input: {
  cluster: string;
  server: string;
  caPem: string;
  user: string;
  certificate: CertificateValue;
}): Kubeconfig {
  const userName = `${input.cluster}-${input.user}`;
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: input.cluster, cluster: { server: input.server, 'certificate-authority-data': b64(input.caPem) } },
    ],
    users: [
      {
        name: userName,
        user: {
          'client-certificate-data': b64(input.certificate.certificate),
          'client-key-data': b64(input.certificate.private_key),
        },
      },
    ],
    contexts: [{ name: input.cluster, context: { cluster: input.cluster, user: userName } }],
    'current-context': input.cluster,
    preferences: {},
  };
}
