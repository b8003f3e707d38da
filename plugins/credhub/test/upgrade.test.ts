import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createCertificate } from '@slipway/pki';
import { seal } from '../src/encryption/cipher.js';
import { LocalKeyProvider } from '../src/encryption/key-provider.js';
import { migrations } from '../src/store/migrations.js';
import { engine, openStore, tempDir } from './helpers.js';

/**
 * A store as the first version of this plugin wrote it: one table of versions, each value sealed under
 * its own data key (AAD `id:name`) wrapped by the key file's KEK (AAD `kek:keyId`).
 */
async function firstVersionStore(dataDir: string): Promise<{ caPem: string; leafPem: string }> {
  const keys = LocalKeyProvider.fromConfig({}, dataDir);
  const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new Sqlite(join(dataDir, 'credhub.db')) }) });
  await new Migrator({
    db,
    provider: { getMigrations: async () => ({ '0001_versions': migrations['0001_versions'] }) },
  }).migrateToLatest();
  const ca = await createCertificate({ subject: { commonName: 'old-ca' }, isCa: true, keyAlgorithm: 'ecdsa-p256' });
  const leaf = await createCertificate(
    { subject: { commonName: 'old-leaf' }, keyAlgorithm: 'ecdsa-p256' },
    { certificatePem: ca.certificatePem, privateKeyPem: ca.privateKeyPem },
  );
  const rows: Array<[string, string, unknown, unknown]> = [
    ['/old/password', 'password', 'first-version-password', { length: 22 }],
    ['/old/password', 'password', 'second-version-password', { length: 23 }],
    [
      '/old/ca',
      'certificate',
      { ca: ca.certificatePem, certificate: ca.certificatePem, private_key: ca.privateKeyPem },
      { common_name: 'old-ca', is_ca: true, key_algorithm: 'ecdsa-p256' },
    ],
    [
      '/old/leaf',
      'certificate',
      { ca: ca.certificatePem, certificate: leaf.certificatePem, private_key: leaf.privateKeyPem, ca_name: '/old/ca' },
      { common_name: 'old-leaf', ca: '/old/ca', key_algorithm: 'ecdsa-p256' },
    ],
    ['/old/set', 'value', 'set-by-hand', null],
  ];
  for (const [i, [name, type, value, parameters]] of rows.entries()) {
    const id = randomUUID();
    const dataKey = randomBytes(32);
    await db
      .insertInto('credential_versions')
      .values({
        id,
        name,
        type,
        sealed: seal(dataKey, Buffer.from(JSON.stringify({ value, parameters })), `${id}:${name}`),
        wrapped_key: await keys.wrap(dataKey),
        key_id: keys.activeKeyId,
        metadata: null,
        transitional: 0,
        expiry_date: null,
        created_by: 'slipway:engine',
        created_at: new Date(Date.now() - (rows.length - i) * 1000).toISOString(),
      })
      .execute();
  }
  await db.destroy();
  return { caPem: ca.certificatePem, leafPem: leaf.certificatePem };
}

describe('upgrading a store written by the first version', () => {
  it('migrates it in place: every version readable, certificates listed with their signer, converge unchanged', async () => {
    const dataDir = tempDir();
    const { caPem, leafPem } = await firstVersionStore(dataDir);
    const { provider } = await openStore({ dataDir });
    expect((await provider.get('/old/password', engine)).value).toBe('second-version-password');
    expect((await provider.getVersions('/old/password', 5, engine)).map((v) => v.value)).toEqual([
      'second-version-password',
      'first-version-password',
    ]);
    expect((await provider.get('/old/set', engine)).value).toBe('set-by-hand');
    const certificates = await provider.listCertificates(engine);
    expect(certificates.map((c) => [c.name, c.signed_by, c.signs])).toEqual([
      ['/old/ca', '/old/ca', ['/old/leaf']],
      ['/old/leaf', '/old/ca', []],
    ]);
    expect(certificates[0].versions[0]).toMatchObject({
      certificate_authority: true,
      self_signed: true,
      generated: true,
    });
    expect((await provider.get('/old/leaf', engine)).value).toMatchObject({ certificate: leafPem, ca: caPem });
    // The same parameters converge to the stored versions: an upgrade reissues nothing.
    const leaf = await provider.get('/old/leaf', engine);
    expect(
      (
        await provider.generate(
          {
            name: '/old/leaf',
            type: 'certificate',
            parameters: { common_name: 'old-leaf', ca: '/old/ca', key_algorithm: 'ecdsa-p256' },
          },
          engine,
        )
      ).id,
    ).toBe(leaf.id);
    await expect(provider.regenerate('/old/set', engine)).rejects.toThrow(/statically set/);
    const next = await provider.regenerate('/old/password', engine);
    expect(next.value).toHaveLength(23);
  });
});
