import { createPrivateKey, createPublicKey, generateKeyPair, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

/**
 * The agent's key pair and certificate request, made on the VM with node:crypto alone (the agent ships as
 * one file without node-forge). ECDSA P-256: fast to make, accepted by every TLS stack the control plane runs.
 */

const generate = promisify(generateKeyPair);

export interface KeyAndRequest {
  /** PKCS#8 PEM; never leaves the VM. */
  keyPem: string;
  /** PEM `CERTIFICATE REQUEST` with subject CN = `commonName`. */
  csrPem: string;
}

/** A new P-256 key and a CSR for it; with `keyPem`, a CSR for that key instead (a bootstrap asked again). */
export async function createKeyAndRequest(commonName: string, keyPem?: string): Promise<KeyAndRequest> {
  const { privateKey, publicKey } = keyPem
    ? { privateKey: createPrivateKey(keyPem), publicKey: createPublicKey(keyPem) }
    : ((await generate('ec', { namedCurve: 'P-256' })) as { privateKey: KeyObject; publicKey: KeyObject });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const info = seq(
    integerZero(),
    seq(set(seq(oid([0x55, 0x04, 0x03]), utf8(commonName)))),
    spki,
    // attributes [0] IMPLICIT SET OF Attribute: none.
    element(0xa0, Buffer.alloc(0)),
  );
  const signature = sign('sha256', info, privateKey);
  const ecdsaWithSha256 = seq(oid([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]));
  const request = seq(info, ecdsaWithSha256, element(0x03, Buffer.concat([Buffer.from([0]), signature])));
  return {
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    csrPem: pem('CERTIFICATE REQUEST', request),
  };
}

function pem(label: string, der: Buffer): string {
  const body = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

function element(tag: number, content: Buffer): Buffer {
  const length = content.length;
  const header =
    length < 0x80
      ? Buffer.from([tag, length])
      : length < 0x100
        ? Buffer.from([tag, 0x81, length])
        : Buffer.from([tag, 0x82, length >> 8, length & 0xff]);
  return Buffer.concat([header, content]);
}

const seq = (...parts: Buffer[]): Buffer => element(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]): Buffer => element(0x31, Buffer.concat(parts));
const oid = (bytes: number[]): Buffer => element(0x06, Buffer.from(bytes));
const utf8 = (text: string): Buffer => element(0x0c, Buffer.from(text, 'utf8'));
const integerZero = (): Buffer => Buffer.from([0x02, 0x01, 0x00]);
