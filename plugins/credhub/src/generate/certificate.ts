import { createCertificate, describeCertificate, type Issuer } from '@slipway/pki';
import { SlipwayError, type CertificateParameters, type CertificateValue } from '@slipway/contracts';

/** The CA version that signs: its name and current value. */
export interface Signer {
  name: string;
  certificate: string;
  privateKey: string;
}

/**
 * A certificate per CredHub's parameters: signed by `signer` (the `ca` credential's signing version),
 * or self-signed (`self_sign`, or a CA without `ca`). A self-signed CA names itself as its CA, as CredHub.
 */
export async function generateCertificate(name: string, p: CertificateParameters, signer?: Signer): Promise<CertificateValue> {
  if (p.ca && !signer) throw new SlipwayError('Internal', `certificate ${name} names CA ${p.ca} but no signer was given`);
  if (signer && !describeCertificate(signer.certificate).isCa) {
    throw new SlipwayError('InvalidInput', "The requested certificate cannot be signed by the given CA because the given CA is not a certificate authority. A certificate must contain the extension 'Certificate Authority: YES' to be used to sign other certificates.", { field: 'parameters.ca' });
  }
  if (signer && !signer.privateKey) throw new SlipwayError('InvalidInput', 'The specified CA object does not have an associated private key.', { field: 'parameters.ca' });
  const issuer: Issuer | undefined = signer ? { certificatePem: signer.certificate, privateKeyPem: signer.privateKey } : undefined;
  const cert = await createCertificate({
    subject: {
      commonName: p.common_name, organization: p.organization, organizationalUnit: p.organization_unit,
      locality: p.locality, state: p.state, country: p.country,
    },
    altNames: p.alternative_names, isCa: p.is_ca ?? false, keyUsage: p.key_usage, extendedKeyUsage: p.extended_key_usage,
    days: p.duration ?? 365, keyAlgorithm: p.key_algorithm ?? 'rsa', keyLength: p.key_length ?? 2048,
  }, issuer);
  const selfSignedCa = !signer && (p.is_ca ?? false);
  return {
    ca: signer ? signer.certificate : cert.certificatePem,
    certificate: cert.certificatePem,
    private_key: cert.privateKeyPem,
    ...(signer ? { ca_name: signer.name } : selfSignedCa ? { ca_name: name } : {}),
  };
}
