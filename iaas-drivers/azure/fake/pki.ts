import { createCertificate } from '@slipway/pki';

/** The fake's own CA and its serving certificate for 127.0.0.1: what a private cloud (Azure Stack Hub) looks like to a client. */
export interface FakeTls {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** ECDSA P-256: generated in milliseconds, and accepted by Node's TLS and the Azure SDK. */
export async function createFakeTls(): Promise<FakeTls> {
  const ca = await createCertificate({
    subject: { commonName: 'slipway-fake-azure-ca', organization: 'slipway-iaas-azure-fake' },
    isCa: true,
    days: 2,
    keyAlgorithm: 'ecdsa-p256',
  });
  const server = await createCertificate(
    {
      subject: { commonName: '127.0.0.1' },
      altNames: ['127.0.0.1', 'localhost'],
      extendedKeyUsage: ['server_auth'],
      days: 2,
      keyAlgorithm: 'ecdsa-p256',
    },
    { certificatePem: ca.certificatePem, privateKeyPem: ca.privateKeyPem },
  );
  return { caPem: ca.certificatePem, certPem: server.certificatePem, keyPem: server.privateKeyPem };
}
