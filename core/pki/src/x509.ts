import {
  createHash,
  createPrivateKey,
  createPublicKey,
  randomBytes,
  sign,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';
import type { RsaKeyPool } from './key-pool.js';
import { generateKeyPair, type KeyAlgorithm } from './keys.js';

const { asn1, pki } = forge;

export interface DistinguishedName {
  commonName?: string;
  organization?: string;
  organizationalUnit?: string;
  locality?: string;
  state?: string;
  country?: string;
}

/** CredHub's key usage names. */
export type KeyUsage =
  | 'digital_signature'
  | 'non_repudiation'
  | 'key_encipherment'
  | 'data_encipherment'
  | 'key_agreement'
  | 'key_cert_sign'
  | 'crl_sign'
  | 'encipher_only'
  | 'decipher_only';
export type ExtendedKeyUsage = 'server_auth' | 'client_auth' | 'code_signing' | 'email_protection' | 'timestamping';

export interface CertificateSpec {
  subject: DistinguishedName;
  /** DNS names and IP addresses. */
  altNames?: string[];
  isCa?: boolean;
  pathLen?: number;
  keyUsage?: KeyUsage[];
  extendedKeyUsage?: ExtendedKeyUsage[];
  /** Validity in days; default 365. */
  days?: number;
  /** Default: five minutes ago, for clock skew between hosts. */
  notBefore?: Date;
  /** Default: `days` after notBefore (plus the five minutes of skew). */
  notAfter?: Date;
}

export interface Issuer {
  certificatePem: string;
  privateKeyPem: string;
}

const KEY_USAGE_FLAGS: Record<KeyUsage, string> = {
  digital_signature: 'digitalSignature',
  non_repudiation: 'nonRepudiation',
  key_encipherment: 'keyEncipherment',
  data_encipherment: 'dataEncipherment',
  key_agreement: 'keyAgreement',
  key_cert_sign: 'keyCertSign',
  crl_sign: 'cRLSign',
  encipher_only: 'encipherOnly',
  decipher_only: 'decipherOnly',
};
const EKU_FLAGS: Record<ExtendedKeyUsage, string> = {
  server_auth: 'serverAuth',
  client_auth: 'clientAuth',
  code_signing: 'codeSigning',
  email_protection: 'emailProtection',
  timestamping: 'timeStamping',
};
const OID_SHA256_RSA = '1.2.840.113549.1.1.11';
const OID_ECDSA_SHA256 = '1.2.840.10045.4.3.2';

// node-forge only models RSA public keys; any fixed RSA key stands in while the TBS is assembled, and
// its SubjectPublicKeyInfo is then replaced by the real one (RSA or EC) from node:crypto.
let placeholder: forge.pki.PublicKey | undefined;
function placeholderKey(): forge.pki.PublicKey {
  placeholder ??= pki.setRsaPublicKey(new forge.jsbn.BigInteger('c3', 16), new forge.jsbn.BigInteger('10001', 16));
  return placeholder;
}

function attributesOf(name: DistinguishedName): forge.pki.CertificateField[] {
  const attrs: forge.pki.CertificateField[] = [];
  if (name.country) attrs.push({ shortName: 'C', value: name.country });
  if (name.state) attrs.push({ shortName: 'ST', value: name.state });
  if (name.locality) attrs.push({ shortName: 'L', value: name.locality });
  if (name.organization) attrs.push({ shortName: 'O', value: name.organization });
  if (name.organizationalUnit) attrs.push({ shortName: 'OU', value: name.organizationalUnit });
  if (name.commonName) attrs.push({ shortName: 'CN', value: name.commonName });
  return attrs;
}

/** SHA-1 over the subjectPublicKey BIT STRING contents (RFC 5280 4.2.1.2 method 1). */
function keyIdentifier(spkiDer: Buffer): string {
  const spki = asn1.fromDer(forge.util.createBuffer(spkiDer.toString('binary')), { decodeBitStrings: false } as never);
  const bitString = (spki.value as forge.asn1.Asn1[])[1].value as string;
  // Skip the unused-bits byte.
  return createHash('sha1')
    .update(Buffer.from(bitString.slice(1), 'binary'))
    .digest('binary');
}

function algorithmIdentifier(oid: string): forge.asn1.Asn1 {
  const parts = [asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(oid).getBytes())];
  // RSA signatures carry NULL parameters; ECDSA ones carry none (RFC 5758).
  if (oid === OID_SHA256_RSA) parts.push(asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ''));
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, parts);
}

/** What signing needs of an issuer, parsed once: PEM parsing and key import cost more than the signature. */
interface ParsedIssuer {
  key: KeyObject;
  /** The issuer's subject Name as DER-derived ASN.1 (forge cannot parse EC certificates). */
  name?: forge.asn1.Asn1;
  spkiDer?: Buffer;
}

// Bulk issuance signs thousands of leaves with a handful of CAs; the cache is small and bounded.
const ISSUER_CACHE_SIZE = 32;
const issuers = new Map<string, ParsedIssuer>();

function parsedIssuer(issuer: Issuer | { selfSignedKeyPem: string }): ParsedIssuer {
  const selfSigned = 'selfSignedKeyPem' in issuer;
  if (selfSigned) return { key: createPrivateKey(issuer.selfSignedKeyPem) };
  const cacheKey = issuer.certificatePem + issuer.privateKeyPem;
  const hit = issuers.get(cacheKey);
  if (hit) return hit;
  const cert = new X509Certificate(issuer.certificatePem);
  const name = (
    (asn1.fromDer(forge.util.createBuffer(cert.raw.toString('binary'))).value as forge.asn1.Asn1[])[0]
      .value as forge.asn1.Asn1[]
  )[5];
  const parsed: ParsedIssuer = {
    key: createPrivateKey(issuer.privateKeyPem),
    name,
    spkiDer: cert.publicKey.export({ type: 'spki', format: 'der' }),
  };
  if (issuers.size >= ISSUER_CACHE_SIZE) issuers.delete(issuers.keys().next().value!);
  issuers.set(cacheKey, parsed);
  return parsed;
}

interface PreparedCertificate {
  tbs: forge.asn1.Asn1;
  tbsDer: Buffer;
  signatureOid: string;
  key: KeyObject;
}

/** Assembles the TBSCertificate with node-forge, then swaps in the real key, issuer name and algorithm. */
function prepare(
  spec: CertificateSpec,
  publicKeyPem: string,
  issuer: Issuer | { selfSignedKeyPem: string },
): PreparedCertificate {
  const subjectKey = createPublicKey(publicKeyPem);
  const subjectSpki = subjectKey.export({ type: 'spki', format: 'der' });
  const signer = parsedIssuer(issuer);
  const issuerSpki = signer.spkiDer ?? subjectSpki;

  const cert = pki.createCertificate();
  cert.publicKey = placeholderKey();
  // Positive 128-bit serial: clear the top bit so DER does not need a sign byte.
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  serial[0] |= 0x01;
  cert.serialNumber = serial.toString('hex');
  const notBefore = spec.notBefore ?? new Date(Date.now() - 5 * 60_000);
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter =
    spec.notAfter ?? new Date(notBefore.getTime() + (spec.days ?? 365) * 86_400_000 + 5 * 60_000);
  cert.setSubject(attributesOf(spec.subject));
  cert.setIssuer(attributesOf(spec.subject));

  const isCa = spec.isCa ?? false;
  const keyUsage = spec.keyUsage ?? defaultKeyUsage(isCa, subjectKey.asymmetricKeyType === 'ec');
  const extensions: Array<Record<string, unknown>> = [
    {
      name: 'basicConstraints',
      cA: isCa,
      critical: true,
      ...(isCa && spec.pathLen !== undefined ? { pathLenConstraint: spec.pathLen } : {}),
    },
    { name: 'keyUsage', critical: true, ...Object.fromEntries(keyUsage.map((k) => [KEY_USAGE_FLAGS[k], true])) },
    {
      id: '2.5.29.14',
      critical: false,
      value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, keyIdentifier(subjectSpki)),
    },
    {
      id: '2.5.29.35',
      critical: false,
      value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
        asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, keyIdentifier(issuerSpki)),
      ]),
    },
  ];
  if (spec.extendedKeyUsage?.length) {
    extensions.push({
      name: 'extKeyUsage',
      ...Object.fromEntries(spec.extendedKeyUsage.map((k) => [EKU_FLAGS[k], true])),
    });
  }
  if (spec.altNames?.length) {
    extensions.push({
      name: 'subjectAltName',
      altNames: spec.altNames.map((n) => (isIP(n) ? { type: 7, ip: n } : { type: 2, value: n })),
    });
  }
  cert.setExtensions(extensions);

  const signatureOid = signer.key.asymmetricKeyType === 'ec' ? OID_ECDSA_SHA256 : OID_SHA256_RSA;
  cert.siginfo.algorithmOid = signatureOid;
  const tbs = (pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(
    cert,
  );
  const fields = tbs.value as forge.asn1.Asn1[];
  fields[2] = algorithmIdentifier(signatureOid);
  if (signer.name) fields[3] = signer.name;
  fields[6] = asn1.fromDer(forge.util.createBuffer(subjectSpki.toString('binary')));
  return { tbs, tbsDer: Buffer.from(asn1.toDer(tbs).getBytes(), 'binary'), signatureOid, key: signer.key };
}

function assemble(prepared: PreparedCertificate, signature: Buffer): string {
  const certificate = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    prepared.tbs,
    algorithmIdentifier(prepared.signatureOid),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, `\u0000${signature.toString('binary')}`),
  ]);
  const der = Buffer.from(asn1.toDer(certificate).getBytes(), 'binary');
  return `-----BEGIN CERTIFICATE-----\n${der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
}

/**
 * RSA keys encipher (TLS RSA key exchange); EC keys only sign, and keyEncipherment on an EC key is
 * meaningless (RFC 5480 section 3), so EC leaves default to digitalSignature alone.
 */
function defaultKeyUsage(isCa: boolean, ec: boolean): KeyUsage[] {
  if (isCa) return ['key_cert_sign', 'crl_sign', 'digital_signature'];
  return ec ? ['digital_signature'] : ['digital_signature', 'key_encipherment'];
}

/**
 * Signs a certificate for `publicKeyPem`, synchronously on the calling thread. Self-signed with
 * `{ selfSignedKeyPem }`. node-forge assembles the TBSCertificate; node:crypto signs.
 */
export function signCertificate(
  spec: CertificateSpec,
  publicKeyPem: string,
  issuer: Issuer | { selfSignedKeyPem: string },
): string {
  const prepared = prepare(spec, publicKeyPem, issuer);
  return assemble(prepared, sign('sha256', prepared.tbsDer, prepared.key));
}

/**
 * As signCertificate, but the signature is computed on libuv's thread pool: an RSA signature costs about
 * as much as assembling the certificate, so bulk issuance uses every core without worker threads.
 */
export async function signCertificateAsync(
  spec: CertificateSpec,
  publicKeyPem: string,
  issuer: Issuer | { selfSignedKeyPem: string },
): Promise<string> {
  const prepared = prepare(spec, publicKeyPem, issuer);
  const signature = await new Promise<Buffer>((resolve, reject) => {
    sign('sha256', prepared.tbsDer, prepared.key, (error, result) => (error ? reject(error) : resolve(result)));
  });
  return assemble(prepared, signature);
}

/** Generates a key pair and a certificate for it: signed by `issuer`, or self-signed without one. */
export async function createCertificate(
  spec: CertificateSpec & { keyAlgorithm?: KeyAlgorithm; keyLength?: 2048 | 3072 | 4096 },
  issuer?: Issuer,
  options: { rsaPool?: RsaKeyPool } = {},
): Promise<{ certificatePem: string; privateKeyPem: string }> {
  const algorithm = spec.keyAlgorithm ?? 'rsa';
  const bits = spec.keyLength ?? 2048;
  const keys =
    algorithm === 'rsa' && bits === 2048 && options.rsaPool
      ? await options.rsaPool.take()
      : await generateKeyPair(algorithm, bits);
  const certificatePem = await signCertificateAsync(
    spec,
    keys.publicKeyPem,
    issuer ?? { selfSignedKeyPem: keys.privateKeyPem },
  );
  return { certificatePem, privateKeyPem: keys.privateKeyPem };
}

export interface CertificateInfo {
  subject: string;
  issuer: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
  isCa: boolean;
  altNames: string[];
  fingerprint256: string;
}

export function describeCertificate(pem: string): CertificateInfo {
  const x = new X509Certificate(pem);
  const altNames = (x.subjectAltName ?? '')
    .split(', ')
    .filter(Boolean)
    .map((n) => n.replace(/^(DNS|IP Address):/, ''));
  return {
    subject: x.subject,
    issuer: x.issuer,
    serial: x.serialNumber,
    notBefore: new Date(x.validFrom),
    notAfter: new Date(x.validTo),
    isCa: x.ca,
    altNames,
    fingerprint256: x.fingerprint256,
  };
}

/** Whether `pem` was signed by `caPem` (signature check only). */
export function isSignedBy(pem: string, caPem: string): boolean {
  return new X509Certificate(pem).verify(new X509Certificate(caPem).publicKey);
}

/** Whether the certificate is for the public half of `privateKeyPem`. */
export function certificateMatchesKey(certificatePem: string, privateKeyPem: string): boolean {
  const fromCertificate = new X509Certificate(certificatePem).publicKey.export({ type: 'spki', format: 'der' });
  const fromKey = createPublicKey(createPrivateKey(privateKeyPem)).export({ type: 'spki', format: 'der' });
  return fromCertificate.equals(fromKey);
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The certificates of a PEM bundle, each normalized to end with a newline. */
export function splitPemCertificates(bundle: string): string[] {
  return (bundle.match(PEM_CERTIFICATE) ?? []).map((pem) => `${pem.trim()}\n`);
}

/**
 * One PEM bundle from certificates and bundles, in order, without duplicates: what a TLS peer's CA file
 * (`--client-ca-file`, `--trusted-ca-file`) holds.
 */
export function pemBundle(pems: Iterable<string | null | undefined>): string {
  const seen = new Set<string>();
  for (const pem of pems) for (const one of splitPemCertificates(pem ?? '')) seen.add(one);
  return [...seen].join('');
}
