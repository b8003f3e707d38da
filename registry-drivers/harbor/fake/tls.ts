import { createCertificate } from '@slipway/pki';

/** The fake's own PKI: a CA (what `/systeminfo/getcert` hands out), its HTTPS certificate, and the token signer. */
export interface FakeTls {
  caPem: string;
  server: { certificatePem: string; privateKeyPem: string };
  /** Signs registry tokens; docker-registry trusts its certificate through `rootcertbundle`. */
  tokenSigner: { certificatePem: string; privateKeyPem: string };
}

export async function createFakeTls(): Promise<FakeTls> {
  const ca = await createCertificate({
    subject: { commonName: 'Harbor fake CA', organization: 'slipway' },
    isCa: true,
    days: 30,
    keyUsage: ['key_cert_sign', 'crl_sign'],
  });
  const issuer = { certificatePem: ca.certificatePem, privateKeyPem: ca.privateKeyPem };
  const [server, tokenSigner] = await Promise.all([
    createCertificate(
      {
        subject: { commonName: '127.0.0.1' },
        altNames: ['127.0.0.1', 'localhost'],
        days: 30,
        keyUsage: ['digital_signature', 'key_encipherment'],
        extendedKeyUsage: ['server_auth'],
      },
      issuer,
    ),
    // Self-signed: the registry's root bundle holds exactly this certificate, so only this key can mint tokens.
    createCertificate({ subject: { commonName: 'harbor-token-issuer' }, days: 30, keyUsage: ['digital_signature'] }),
  ]);
  return { caPem: ca.certificatePem, server, tokenSigner };
}
