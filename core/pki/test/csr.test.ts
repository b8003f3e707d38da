import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createCertificate, parseCertificationRequest, signCertificationRequest } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'pki-csr-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const openssl = (...args: string[]) =>
  execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** A CSR made by openssl, as any node would make one. */
function opensslRequest(name: string, cn: string, keyArgs: string[]): string {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  openssl('req', '-new', '-nodes', ...keyArgs, '-keyout', key, '-subj', `/O=ignored/CN=${cn}`, '-out', csr);
  return readFileSync(csr, 'utf8');
}

describe('certificate requests', () => {
  it('reads an ECDSA and an RSA request made by openssl and signs certificates that openssl verify accepts', async () => {
    const ca = await createCertificate({ subject: { commonName: 'agent-ca' }, isCa: true });
    const issuer = { certificatePem: ca.certificatePem, privateKeyPem: ca.privateKeyPem };
    writeFileSync(join(dir, 'ca.pem'), ca.certificatePem);
    for (const [name, keyArgs] of [
      ['ec', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']],
      ['rsa', ['-newkey', 'rsa:2048']],
    ] as const) {
      const request = parseCertificationRequest(opensslRequest(name, `agent-${name}`, [...keyArgs]));
      expect(request.commonName).toBe(`agent-${name}`);
      expect(request.keyDescription).toBe(name === 'ec' ? 'ec-prime256v1' : 'rsa-2048');
      const signed = await signCertificationRequest(
        request,
        {
          subject: { commonName: `agent-${name}`, organization: 'slipway:agents' },
          extendedKeyUsage: ['client_auth'],
          days: 7,
        },
        issuer,
      );
      writeFileSync(join(dir, `${name}.pem`), signed.certificatePem);
      expect(openssl('verify', '-CAfile', join(dir, 'ca.pem'), join(dir, `${name}.pem`))).toContain(': OK');
      expect(signed.serial).toMatch(/^[0-9A-F]+$/);
      expect(Math.round((signed.notAfter.getTime() - Date.now()) / 86_400_000)).toBe(7);
      // The certificate is for the key in the request: openssl's key and the certificate match.
      const certKey = openssl('x509', '-in', join(dir, `${name}.pem`), '-noout', '-pubkey');
      const requestKey = openssl('pkey', '-in', join(dir, `${name}.key`), '-pubout');
      expect(certKey).toBe(requestKey);
    }
  });

  it('refuses a request whose signature does not match its key, and what is not a request', () => {
    const pem = opensslRequest('tampered', 'agent-x', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    // Change one byte of the CN inside the signed part: the self-signature no longer verifies.
    const at = der.indexOf(Buffer.from('agent-x'));
    der[at + 6] = 'y'.charCodeAt(0);
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    expect(() => parseCertificationRequest(tampered)).toThrow(/signature does not verify/);
    expect(() => parseCertificationRequest('hello')).toThrow(/CERTIFICATE REQUEST/);
    expect(() =>
      parseCertificationRequest('-----BEGIN CERTIFICATE REQUEST-----\nMAMCAQA=\n-----END CERTIFICATE REQUEST-----'),
    ).toThrow(/not valid DER|expected/);
  });
});
