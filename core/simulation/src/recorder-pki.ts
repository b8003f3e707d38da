import { createCertificate, parseCertificationRequest, signCertificationRequest } from '@slipway/pki';

/** The recorder's own small PKI: a CA, its serving certificate for 127.0.0.1, and agents' client certificates. */
export interface RecorderPki {
  caPem: string;
  server: { certPem: string; keyPem: string };
  /** Signs an agent's CSR (CN = `agentId`, checked); throws an Error saying what is wrong with it. */
  signRequest(
    csrPem: string,
    agentId: string,
    days?: number,
  ): Promise<{ certPem: string; serial: string; notBefore: Date; notAfter: Date }>;
}

/** ECDSA throughout: a conformance run issues one client certificate per VM, and RSA keygen would dominate it. */
export async function createRecorderPki(): Promise<RecorderPki> {
  const ca = await createCertificate({
    subject: { commonName: 'slipway-test-agent-ca', organization: 'slipway-testkit' },
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
  return {
    caPem: ca.certificatePem,
    server: { certPem: server.certificatePem, keyPem: server.privateKeyPem },
    async signRequest(csrPem, agentId, days = 2) {
      const request = parseCertificationRequest(csrPem);
      if (request.commonName !== agentId) throw new Error(`the CSR asks for CN ${request.commonName}, not ${agentId}`);
      const signed = await signCertificationRequest(
        request,
        { subject: { commonName: agentId }, extendedKeyUsage: ['client_auth'], days },
        issuer,
      );
      return {
        certPem: signed.certificatePem,
        serial: signed.serial,
        notBefore: signed.notBefore,
        notAfter: signed.notAfter,
      };
    },
  };
}
