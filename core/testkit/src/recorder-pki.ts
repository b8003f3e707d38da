import { createCertificate } from '@slipway/pki';

/** The recorder's own small PKI: a CA, its serving certificate for 127.0.0.1, and agents' client certificates. */
export interface RecorderPki {
  caPem: string;
  server: { certPem: string; keyPem: string };
  issueClient(agentId: string): Promise<{ certPem: string; keyPem: string }>;
}

/** ECDSA throughout: a conformance run issues one client certificate per VM, and RSA keygen would dominate it. */
export async function createRecorderPki(): Promise<RecorderPki> {
  const ca = await createCertificate({ subject: { commonName: 'slipway-test-agent-ca', organization: 'slipway-testkit' }, isCa: true, days: 2, keyAlgorithm: 'ecdsa-p256' });
  const issuer = { certificatePem: ca.certificatePem, privateKeyPem: ca.privateKeyPem };
  const server = await createCertificate({
    subject: { commonName: '127.0.0.1' }, altNames: ['127.0.0.1', 'localhost'], extendedKeyUsage: ['server_auth'], days: 2, keyAlgorithm: 'ecdsa-p256',
  }, issuer);
  return {
    caPem: ca.certificatePem,
    server: { certPem: server.certificatePem, keyPem: server.privateKeyPem },
    async issueClient(agentId) {
      const client = await createCertificate({ subject: { commonName: agentId }, extendedKeyUsage: ['client_auth'], days: 2, keyAlgorithm: 'ecdsa-p256' }, issuer);
      return { certPem: client.certificatePem, keyPem: client.privateKeyPem };
    },
  };
}
