import { createCertificate } from '@slipway/pki';

/** The fake vCenter's own CA and its serving certificate for 127.0.0.1, as vCenter's VMCA issues one. */
export interface FakeTls {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** ECDSA, so starting a fake costs a few milliseconds of key generation, not an RSA keygen. */
export async function createFakeTls(): Promise<FakeTls> {
  const ca = await createCertificate({
    subject: { commonName: 'CA', organization: 'Slipway fake VMCA' },
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
