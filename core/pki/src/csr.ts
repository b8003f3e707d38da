import { createPublicKey, verify, X509Certificate } from 'node:crypto';
import { signCertificateAsync, type CertificateSpec, type Issuer } from './x509.js';

/**
 * PKCS#10 certificate requests (RFC 2986) on the signing side: the control plane checks a node's CSR (its
 * self-signature proves the sender holds the private key) and signs a certificate for the CSR's public key.
 * node-forge cannot read EC requests, so the few DER fields needed are read here directly.
 */

/** What a verified CSR says: the requested common name and the public key whose holder signed it. */
export interface CertificationRequest {
  commonName: string | undefined;
  publicKeyPem: string;
  /** `ec-p256`, `rsa-2048` and so on, for messages. */
  keyDescription: string;
}

const OID_COMMON_NAME = '2.5.4.3';
const OID_ECDSA_SHA256 = '1.2.840.10045.4.3.2';
const OID_SHA256_RSA = '1.2.840.113549.1.1.11';

interface Tlv {
  tag: number;
  /** The whole element (header and contents). */
  start: number;
  contentStart: number;
  end: number;
}

function readTlv(der: Buffer, at: number, limit = der.length): Tlv {
  if (at + 2 > limit) throw malformed('truncated element');
  const tag = der[at]!;
  let length = der[at + 1]!;
  let contentStart = at + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 3 || contentStart + bytes > limit) throw malformed('bad length');
    length = 0;
    for (let i = 0; i < bytes; i++) length = (length << 8) | der[contentStart + i]!;
    contentStart += bytes;
  }
  const end = contentStart + length;
  if (end > limit) throw malformed('element longer than its container');
  return { tag, start: at, contentStart, end };
}

function children(der: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.contentStart; at < parent.end; ) {
    const child = readTlv(der, at, parent.end);
    out.push(child);
    at = child.end;
  }
  return out;
}

function oidOf(der: Buffer, tlv: Tlv): string {
  if (tlv.tag !== 0x06) throw malformed('expected an OID');
  const bytes = der.subarray(tlv.contentStart, tlv.end);
  const parts: number[] = [];
  let value = 0;
  for (const byte of bytes) {
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      if (parts.length === 0) parts.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

function malformed(why: string): Error {
  return new Error(`the certificate request is not valid DER PKCS#10 (${why})`);
}

function derOfPem(pem: string): Buffer {
  const match = /-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----([\s\S]+?)-----END (?:NEW )?CERTIFICATE REQUEST-----/.exec(
    pem,
  );
  if (!match) throw new Error('expected a PEM "CERTIFICATE REQUEST"');
  return Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64');
}

/**
 * Parses a PEM CSR and verifies its self-signature (SHA-256 with ECDSA or RSA). Throws an Error saying what
 * is wrong; callers turn it into their own typed error.
 */
export function parseCertificationRequest(pem: string): CertificationRequest {
  const der = derOfPem(pem);
  const outer = readTlv(der, 0);
  if (outer.tag !== 0x30 || outer.end !== der.length) throw malformed('not one SEQUENCE');
  const [info, algorithm, signature] = children(der, outer);
  if (!info || !algorithm || !signature || info.tag !== 0x30 || algorithm.tag !== 0x30 || signature.tag !== 0x03)
    throw malformed('expected info, algorithm and signature');
  const [version, subject, spki] = children(der, info);
  if (version?.tag !== 0x02 || !subject || subject.tag !== 0x30 || !spki || spki.tag !== 0x30)
    throw malformed('expected version, subject and key');

  const key = createPublicKey({ key: der.subarray(spki.start, spki.end), format: 'der', type: 'spki' });
  const details = key.asymmetricKeyDetails ?? {};
  const keyDescription =
    key.asymmetricKeyType === 'ec'
      ? `ec-${details.namedCurve ?? 'unknown'}`
      : `${key.asymmetricKeyType}-${details.modulusLength ?? '?'}`;
  const algorithmOid = oidOf(der, children(der, algorithm)[0] ?? readTlv(der, algorithm.contentStart));
  const expected =
    key.asymmetricKeyType === 'ec' ? OID_ECDSA_SHA256 : key.asymmetricKeyType === 'rsa' ? OID_SHA256_RSA : undefined;
  if (!expected) throw new Error(`the certificate request's key is ${keyDescription}; use ECDSA P-256 or RSA`);
  if (algorithmOid !== expected)
    throw new Error(
      `the certificate request is signed with ${algorithmOid}; expected SHA-256 with its ${key.asymmetricKeyType} key`,
    );
  // A BIT STRING starts with its count of unused bits, which is 0 for a signature.
  const signatureBytes = der.subarray(signature.contentStart + 1, signature.end);
  if (!verify('sha256', der.subarray(info.start, info.end), key, signatureBytes)) {
    throw new Error("the certificate request's signature does not verify: it was not signed by the key it carries");
  }

  let commonName: string | undefined;
  for (const rdn of children(der, subject)) {
    for (const attribute of children(der, rdn)) {
      const [type, value] = children(der, attribute);
      if (type && value && oidOf(der, type) === OID_COMMON_NAME)
        commonName = der.subarray(value.contentStart, value.end).toString('utf8');
    }
  }
  return { commonName, publicKeyPem: key.export({ type: 'spki', format: 'pem' }).toString(), keyDescription };
}

/** A certificate signed for a CSR's key, with what the caller records of it. */
export interface SignedRequest {
  certificatePem: string;
  /** Upper-case hex, as node's `X509Certificate.serialNumber` and TLS peers report it. */
  serial: string;
  notBefore: Date;
  notAfter: Date;
}

/**
 * Signs a certificate for the public key of an already verified CSR. The subject and extensions come from
 * `spec`, never from the request: a node asks for a key to be certified, the CA decides what it may be.
 */
export async function signCertificationRequest(
  request: CertificationRequest,
  spec: CertificateSpec,
  issuer: Issuer,
): Promise<SignedRequest> {
  const certificatePem = await signCertificateAsync(spec, request.publicKeyPem, issuer);
  const x = new X509Certificate(certificatePem);
  return {
    certificatePem,
    serial: x.serialNumber.toUpperCase(),
    notBefore: new Date(x.validFrom),
    notAfter: new Date(x.validTo),
  };
}
