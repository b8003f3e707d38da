import { createHash, createPublicKey } from 'node:crypto';
import { generateKeyPair, type RsaKeyPool } from '@slipway/pki';
import type { RsaValue, SshValue } from '@slipway/contracts';

/** An RSA key pair; RSA-2048 from `pool` when given (keys generated ahead, in memory only). */
export async function generateRsa(p: { key_length?: 2048 | 3072 | 4096 } = {}, pool?: RsaKeyPool): Promise<RsaValue> {
  const bits = p.key_length ?? 2048;
  const keys = bits === 2048 && pool ? await pool.take() : await generateKeyPair('rsa', bits);
  return { public_key: keys.publicKeyPem, private_key: keys.privateKeyPem };
}

/** An RSA key pair with its public half in OpenSSH format and its SHA256 fingerprint (as `ssh-keygen -l`). */
export async function generateSsh(
  p: { key_length?: 2048 | 3072 | 4096; ssh_comment?: string } = {},
): Promise<SshValue> {
  const keys = await generateKeyPair('rsa', p.key_length ?? 2048);
  const blob = opensshRsaBlob(keys.publicKeyPem);
  const publicKey = `ssh-rsa ${blob.toString('base64')}${p.ssh_comment ? ` ${p.ssh_comment}` : ''}`;
  return { public_key: publicKey, private_key: keys.privateKeyPem, public_key_fingerprint: sshFingerprint(blob) };
}

/** The RFC 4253 `ssh-rsa` public key blob. */
export function opensshRsaBlob(publicKeyPem: string): Buffer {
  const jwk = createPublicKey(publicKeyPem).export({ format: 'jwk' }) as { n: string; e: string };
  const field = (b: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return Buffer.concat([len, b]);
  };
  const mpint = (b64url: string) => {
    const b = Buffer.from(b64url, 'base64url');
    return field(b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
  };
  return Buffer.concat([field(Buffer.from('ssh-rsa')), mpint(jwk.e), mpint(jwk.n)]);
}

export function sshFingerprint(blob: Buffer): string {
  return createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}
