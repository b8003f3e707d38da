import { createHash, createPublicKey, randomInt } from 'node:crypto';
import { createCertificate, describeCertificate, generateKeyPair, type Issuer } from '@slipway/pki';
import { SlipwayError, type CertificateParameters, type CertificateValue, type CredentialType, type PasswordParameters, type RsaValue, type SshValue, type UserValue } from '@slipway/contracts';

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';
const SPECIAL = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

/** CredHub's password rules: length 30 by default; at least one character of each included class. */
export function generatePassword(p: PasswordParameters = {}): string {
  const length = p.length ?? 30;
  if (!Number.isInteger(length) || length < 4 || length > 200) {
    throw new SlipwayError('InvalidInput', `length must be an integer from 4 to 200; got ${length}`, { field: 'parameters.length' });
  }
  const classes = [p.exclude_lower ? '' : LOWER, p.exclude_upper ? '' : UPPER, p.exclude_number ? '' : DIGITS, p.include_special ? SPECIAL : ''].filter(Boolean);
  if (!classes.length) throw new SlipwayError('InvalidInput', 'the parameters exclude every character class', { field: 'parameters' });
  const all = classes.join('');
  const chars = classes.map((c) => c[randomInt(c.length)]);
  while (chars.length < length) chars.push(all[randomInt(all.length)]);
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j], chars[i]];
  }
  return chars.join('');
}

export function generateUser(p: PasswordParameters & { username?: string } = {}): UserValue {
  return { username: p.username ?? generatePassword({ length: 20, exclude_number: true, exclude_upper: true }), password: generatePassword(p) };
}

export async function generateRsa(p: { key_length?: 2048 | 3072 | 4096 } = {}): Promise<RsaValue> {
  const keys = await generateKeyPair('rsa', p.key_length ?? 2048);
  return { public_key: keys.publicKeyPem, private_key: keys.privateKeyPem };
}

/** An RSA key pair with its public half in OpenSSH format and its SHA256 fingerprint. */
export async function generateSsh(p: { key_length?: 2048 | 3072 | 4096; ssh_comment?: string } = {}): Promise<SshValue> {
  const keys = await generateKeyPair('rsa', p.key_length ?? 2048);
  const jwk = createPublicKey(keys.publicKeyPem).export({ format: 'jwk' }) as { n: string; e: string };
  const field = (b: Buffer) => { const len = Buffer.alloc(4); len.writeUInt32BE(b.length); return Buffer.concat([len, b]); };
  const mpint = (b64url: string) => { const b = Buffer.from(b64url, 'base64url'); return field(b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b); };
  const blob = Buffer.concat([field(Buffer.from('ssh-rsa')), mpint(jwk.e), mpint(jwk.n)]);
  const publicKey = `ssh-rsa ${blob.toString('base64')}${p.ssh_comment ? ` ${p.ssh_comment}` : ''}`;
  const fingerprint = createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
  return { public_key: publicKey, private_key: keys.privateKeyPem, public_key_fingerprint: fingerprint };
}

/** Certificates per CredHub's parameters; `signer` is the current version of the `ca` credential. */
export async function generateCertificate(p: CertificateParameters, signer?: { name: string; value: CertificateValue }): Promise<CertificateValue> {
  const duration = p.duration ?? 365;
  if (!Number.isInteger(duration) || duration < 1 || duration > 3650) {
    throw new SlipwayError('InvalidInput', `duration must be 1 to 3650 days; got ${duration}`, { field: 'parameters.duration' });
  }
  if (!p.common_name && !p.alternative_names?.length) {
    throw new SlipwayError('InvalidInput', 'a certificate needs a common_name or alternative_names', { field: 'parameters.common_name' });
  }
  if (!p.ca && !p.self_sign && !p.is_ca) {
    throw new SlipwayError('InvalidInput', 'say who signs the certificate: ca (a CA credential name), self_sign, or is_ca', { field: 'parameters.ca' });
  }
  const issuer: Issuer | undefined = signer ? { certificatePem: signer.value.certificate, privateKeyPem: signer.value.private_key } : undefined;
  const cert = await createCertificate({
    subject: {
      commonName: p.common_name, organization: p.organization, organizationalUnit: p.organization_unit,
      locality: p.locality, state: p.state, country: p.country,
    },
    altNames: p.alternative_names, isCa: p.is_ca ?? false, keyUsage: p.key_usage, extendedKeyUsage: p.extended_key_usage,
    days: duration, keyAlgorithm: p.key_algorithm ?? 'rsa', keyLength: p.key_length ?? 2048,
  }, issuer);
  return {
    ca: signer ? signer.value.certificate : cert.certificatePem,
    certificate: cert.certificatePem,
    private_key: cert.privateKeyPem,
    ...(signer ? { ca_name: signer.name } : {}),
  };
}

export function expiryOf(type: CredentialType, value: unknown): string | null {
  if (type !== 'certificate') return null;
  return describeCertificate((value as CertificateValue).certificate).notAfter.toISOString();
}
