import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  certificateMatchesKey,
  createCertificate,
  describeCertificate,
  generateKeyPair,
  isSignedBy,
  pemBundle,
  signCertificate,
  signCertificateAsync,
  splitPemCertificates,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'pki-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, pem: string) => {
  const p = join(dir, name);
  writeFileSync(p, pem);
  return p;
};
const openssl = (...args: string[]) =>
  execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('x509', () => {
  it('issues RSA and ECDSA chains that openssl verify accepts, in every mix of issuer and subject keys', async () => {
    const root = await createCertificate({ subject: { commonName: 'root', organization: 'Slipway' }, isCa: true });
    const ecRoot = await createCertificate({
      subject: { commonName: 'ec-root' },
      isCa: true,
      keyAlgorithm: 'ecdsa-p256',
    });
    const mid = await createCertificate(
      { subject: { commonName: 'mid' }, isCa: true, keyAlgorithm: 'ecdsa-p256' },
      { certificatePem: root.certificatePem, privateKeyPem: root.privateKeyPem },
    );
    const leaf = await createCertificate(
      { subject: { commonName: 'leaf' }, extendedKeyUsage: ['server_auth'] },
      { certificatePem: mid.certificatePem, privateKeyPem: mid.privateKeyPem },
    );
    const rsaUnderEc = await createCertificate(
      { subject: { commonName: 'rsa-under-ec' } },
      { certificatePem: ecRoot.certificatePem, privateKeyPem: ecRoot.privateKeyPem },
    );
    const ecUnderRsa = await createCertificate(
      { subject: { commonName: 'ec-under-rsa' }, keyAlgorithm: 'ecdsa-p256' },
      { certificatePem: root.certificatePem, privateKeyPem: root.privateKeyPem },
    );

    expect(
      openssl(
        'verify',
        '-CAfile',
        file('root.pem', root.certificatePem),
        '-untrusted',
        file('mid.pem', mid.certificatePem),
        file('leaf.pem', leaf.certificatePem),
      ),
    ).toContain(': OK');
    expect(
      openssl(
        'verify',
        '-CAfile',
        file('ecroot.pem', ecRoot.certificatePem),
        file('rsa-ec.pem', rsaUnderEc.certificatePem),
      ),
    ).toContain(': OK');
    expect(
      openssl(
        'verify',
        '-CAfile',
        file('root2.pem', root.certificatePem),
        file('ec-rsa.pem', ecUnderRsa.certificatePem),
      ),
    ).toContain(': OK');
    expect(isSignedBy(leaf.certificatePem, mid.certificatePem)).toBe(true);
    expect(isSignedBy(leaf.certificatePem, root.certificatePem)).toBe(false);
    // A certificate from another CA with the same name does not verify.
    const impostor = await createCertificate({ subject: { commonName: 'root', organization: 'Slipway' }, isCa: true });
    expect(() =>
      openssl(
        'verify',
        '-CAfile',
        file('impostor.pem', impostor.certificatePem),
        file('leaf2.pem', ecUnderRsa.certificatePem),
      ),
    ).toThrow();
  });

  it('writes SANs, key usages, EKUs and CA constraints as requested', async () => {
    const ca = await createCertificate({ subject: { commonName: 'ca' }, isCa: true });
    const leaf = await createCertificate(
      {
        subject: { commonName: 'kube-apiserver', organization: 'system:masters' },
        altNames: ['kubernetes.default', '10.100.200.1'],
        keyUsage: ['digital_signature', 'key_encipherment'],
        extendedKeyUsage: ['server_auth', 'client_auth'],
        days: 30,
      },
      { certificatePem: ca.certificatePem, privateKeyPem: ca.privateKeyPem },
    );
    const text = openssl('x509', '-in', file('san.pem', leaf.certificatePem), '-noout', '-text');
    expect(text).toContain('DNS:kubernetes.default');
    expect(text).toContain('IP Address:10.100.200.1');
    expect(text).toContain('TLS Web Server Authentication, TLS Web Client Authentication');
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment/);
    expect(text).toContain('CA:FALSE');
    const info = describeCertificate(leaf.certificatePem);
    expect(info.subject).toContain('CN=kube-apiserver');
    expect(info.isCa).toBe(false);
    expect(Math.round((info.notAfter.getTime() - info.notBefore.getTime()) / 86_400_000)).toBe(30);
    expect(describeCertificate(ca.certificatePem).isCa).toBe(true);
  });

  it('serves mutual TLS on loopback with issued server and client certificates', async () => {
    const ca = await createCertificate({ subject: { commonName: 'ca' }, isCa: true });
    const issuer = { certificatePem: ca.certificatePem, privateKeyPem: ca.privateKeyPem };
    const server = await createCertificate(
      { subject: { commonName: 'server' }, altNames: ['127.0.0.1'], extendedKeyUsage: ['server_auth'] },
      issuer,
    );
    const client = await createCertificate(
      {
        subject: { commonName: 'agent-7' },
        keyAlgorithm: 'ecdsa-p256',
        extendedKeyUsage: ['client_auth'],
        keyUsage: ['digital_signature'],
      },
      issuer,
    );
    const https = createServer(
      {
        cert: server.certificatePem,
        key: server.privateKeyPem,
        ca: ca.certificatePem,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        res.end((req.socket as import('node:tls').TLSSocket).getPeerCertificate().subject.CN);
      },
    );
    await new Promise<void>((ok) => https.listen(0, '127.0.0.1', ok));
    try {
      const port = (https.address() as AddressInfo).port;
      const body = await new Promise<string>((ok, fail) => {
        request(
          { host: '127.0.0.1', port, ca: ca.certificatePem, cert: client.certificatePem, key: client.privateKeyPem },
          (res) => {
            let data = '';
            res.on('data', (d) => {
              data += d;
            });
            res.on('end', () => ok(data));
          },
        )
          .on('error', fail)
          .end();
      });
      expect(body).toBe('agent-7');
    } finally {
      https.close();
    }
  });

  it('signs on the thread pool as it signs inline, and gives EC leaves a signature-only key usage', async () => {
    const ca = await createCertificate({ subject: { commonName: 'ca' }, isCa: true });
    const issuer = { certificatePem: ca.certificatePem, privateKeyPem: ca.privateKeyPem };
    const keys = await generateKeyPair('ecdsa-p256');
    const spec = { subject: { commonName: 'node' }, extendedKeyUsage: ['client_auth' as const] };
    const [inline, pooled] = [
      signCertificate(spec, keys.publicKeyPem, issuer),
      await signCertificateAsync(spec, keys.publicKeyPem, issuer),
    ];
    for (const pem of [inline, pooled]) {
      expect(
        openssl(
          'verify',
          '-CAfile',
          file('ca-async.pem', ca.certificatePem),
          '-purpose',
          'sslclient',
          file('leaf-async.pem', pem),
        ),
      ).toContain(': OK');
      expect(certificateMatchesKey(pem, keys.privateKeyPem)).toBe(true);
      expect(openssl('x509', '-in', file('ku.pem', pem), '-noout', '-ext', 'keyUsage')).toMatch(
        /critical\s+Digital Signature\s*$/,
      );
    }
    expect(certificateMatchesKey(inline, ca.privateKeyPem)).toBe(false);
  });

  it('bundles certificates in order without duplicates', async () => {
    const a = await createCertificate({ subject: { commonName: 'a' }, isCa: true, keyAlgorithm: 'ecdsa-p256' });
    const b = await createCertificate({ subject: { commonName: 'b' }, isCa: true, keyAlgorithm: 'ecdsa-p256' });
    const bundle = pemBundle([
      a.certificatePem,
      `${b.certificatePem}\n${a.certificatePem}`,
      null,
      b.certificatePem.trim(),
    ]);
    expect(splitPemCertificates(bundle)).toEqual([a.certificatePem, b.certificatePem]);
    expect(bundle).toBe(a.certificatePem + b.certificatePem);
  });
});
