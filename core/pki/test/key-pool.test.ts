import { createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCertificate, describeCertificate, RsaKeyPool } from '../src/index.js';

describe('RsaKeyPool', () => {
  it('hands out each ready RSA-2048 key once, refills after a take, and drops its keys on close', async () => {
    const pool = new RsaKeyPool(2);
    await pool.warm();
    expect(pool.available).toBe(2);
    // A ready key is handed out at once; its replacement is generated in the background, a moment later.
    const a = await pool.take();
    expect(pool.available).toBe(1);
    const b = await pool.take();
    expect(pool.available).toBe(0);
    expect(a.privateKeyPem).not.toBe(b.privateKeyPem);
    const key = createPrivateKey(a.privateKeyPem);
    expect(key.asymmetricKeyType).toBe('rsa');
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(createPublicKey(key).export({ type: 'spki', format: 'pem' })).toBe(a.publicKeyPem);
    await pool.warm();
    expect(pool.available).toBe(2);
    // Drained, it still answers: a key generated on demand, never one handed out before.
    const c = await pool.take();
    const d = await pool.take();
    const e = await pool.take();
    expect(new Set([a, b, c, d, e].map((k) => k.privateKeyPem)).size).toBe(5);
    await pool.close();
    expect(pool.available).toBe(0);
  }, 30_000);

  it('backs RSA-2048 certificates when given, and leaves other sizes and ECDSA to keygen', async () => {
    const pool = new RsaKeyPool(1);
    await pool.warm();
    const rsa = await createCertificate({ subject: { commonName: 'pooled' } }, undefined, { rsaPool: pool });
    expect(pool.available).toBe(0);
    expect(describeCertificate(rsa.certificatePem).subject).toBe('CN=pooled');
    await pool.warm();
    const ec = await createCertificate({ subject: { commonName: 'ec' }, keyAlgorithm: 'ecdsa-p256' }, undefined, {
      rsaPool: pool,
    });
    expect(createPrivateKey(ec.privateKeyPem).asymmetricKeyType).toBe('ec');
    expect(pool.available).toBe(1);
    await pool.close();
  }, 30_000);
});
