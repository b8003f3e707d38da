import { createCertificate } from '@slipway/pki';

/** The fake NSX Manager's CA, its serving certificate for 127.0.0.1, and a principal identity's client certificate. */
export interface FakeTls {
  caPem: string;
  certPem: string;
  keyPem: string;
  principal: { name: string; certPem: string; keyPem: string };
}

/** ECDSA, so starting a fake costs milliseconds, not an RSA keygen. */
export async function createFakeTls(principalName: string): Promise<FakeTls> {
  const ca = await createCertificate({
    subject: { commonName: 'CA', organization: 'Slipway fake NSX Manager' },
    isCa: true,
    days: 2,
    keyAlgorithm: 'ecdsa-p256',
  });
  const issuer = { certificatePem: ca.certificatePem, privateKeyPem: ca.privateKeyPem };
  const server = await createCertificate(
    {
      subject: { commonName: '127.0.0.1' },
      altNames: ['127.0.0.1', 'localhost'],
      extendedKeyUsage: ['server_auth'],
      days: 2,
      keyAlgorithm: 'ecdsa-p256',
    },
    issuer,
  );
  const principal = await createCertificate(
    { subject: { commonName: principalName }, extendedKeyUsage: ['client_auth'], days: 2, keyAlgorithm: 'ecdsa-p256' },
    issuer,
  );
  return {
    caPem: ca.certificatePem,
    certPem: server.certificatePem,
    keyPem: server.privateKeyPem,
    principal: { name: principalName, certPem: principal.certificatePem, keyPem: principal.privateKeyPem },
  };
}
