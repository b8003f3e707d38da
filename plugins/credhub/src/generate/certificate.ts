import { createCertificate, describeCertificate, type Issuer, type RsaKeyPool } from '@slipway/pki';
import { SlipwayError, type CertificateParameters, type CertificateValue } from '@slipway/contracts';

/** The CA version that signs: its name and current value. */
export interface Signer {
  name: string;
  certificate: string;
  privateKey: string;
}

/** What generation takes from the provider: its time and its pool of ready RSA keys. */
export interface GenerationContext {
  /** The control plane's time (its injected clock), in ms since the epoch. */
  now(): number;
  rsaPool?: RsaKeyPool;
  /** Signers already checked to be CAs, by certificate PEM: a cluster's 30 leaves share three. */
  knownCas?: Set<string>;
}

const KNOWN_CAS_LIMIT = 64;

/** Whether `pem` is a CA certificate; parsing costs more than signing an ECDSA leaf, so CAs are remembered. */
function isCa(pem: string, known: Set<string> | undefined): boolean {
  if (known?.has(pem)) return true;
  const ca = describeCertificate(pem).isCa;
  if (ca && known) {
    if (known.size >= KNOWN_CAS_LIMIT) known.delete(known.values().next().value!);
    known.add(pem);
  }
  return ca;
}

const SKEW_MS = 5 * 60_000;

/**
 * A certificate's validity under the control plane's clock. It starts at the earlier of that clock and the
 * wall clock (TLS peers check the wall clock; the two are the same outside tests that move the control
 * plane's clock) minus five minutes of skew between hosts, and lasts `days` from the control plane's now.
 */
export function validity(days: number, now: number): { notBefore: Date; notAfter: Date } {
  return {
    notBefore: new Date(Math.min(now, Date.now()) - SKEW_MS),
    notAfter: new Date(now + days * 86_400_000 + SKEW_MS),
  };
}

/**
 * A certificate per CredHub's parameters: signed by `signer` (the `ca` credential's signing version),
 * or self-signed (`self_sign`, or a CA without `ca`). A self-signed CA names itself as its CA, as CredHub.
 */
export async function generateCertificate(
  name: string,
  p: CertificateParameters,
  signer: Signer | undefined,
  generation: GenerationContext,
): Promise<CertificateValue> {
  if (p.ca && !signer)
    throw new SlipwayError('Internal', `certificate ${name} names CA ${p.ca} but no signer was given`);
  if (signer && !isCa(signer.certificate, generation.knownCas)) {
    throw new SlipwayError(
      'InvalidInput',
      "The requested certificate cannot be signed by the given CA because the given CA is not a certificate authority. A certificate must contain the extension 'Certificate Authority: YES' to be used to sign other certificates.",
      { field: 'parameters.ca' },
    );
  }
  if (signer && !signer.privateKey)
    throw new SlipwayError('InvalidInput', 'The specified CA object does not have an associated private key.', {
      field: 'parameters.ca',
    });
  const issuer: Issuer | undefined = signer
    ? { certificatePem: signer.certificate, privateKeyPem: signer.privateKey }
    : undefined;
  const cert = await createCertificate(
    {
      subject: {
        commonName: p.common_name,
        organization: p.organization,
        organizationalUnit: p.organization_unit,
        locality: p.locality,
        state: p.state,
        country: p.country,
      },
      altNames: p.alternative_names,
      isCa: p.is_ca ?? false,
      keyUsage: p.key_usage,
      extendedKeyUsage: p.extended_key_usage,
      ...validity(p.duration ?? 365, generation.now()),
      keyAlgorithm: p.key_algorithm ?? 'rsa',
      keyLength: p.key_length ?? 2048,
    },
    issuer,
    { rsaPool: generation.rsaPool },
  );
  const selfSignedCa = !signer && (p.is_ca ?? false);
  return {
    ca: signer ? signer.certificate : cert.certificatePem,
    certificate: cert.certificatePem,
    private_key: cert.privateKeyPem,
    ...(signer ? { ca_name: signer.name } : selfSignedCa ? { ca_name: name } : {}),
  };
}
