import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { CertificateValue, Credential, RsaValue, SshValue, UserValue } from '@slipway/contracts';
import type { KeyRotationProgress } from '../src/index.js';
import { engine, openStore, tempDir } from './helpers.js';

/** Every secret a credential holds, as it would appear in the file if stored in the clear. */
function secretsOf(c: Credential): string[] {
  switch (c.type) {
    case 'value':
    case 'password':
      return [c.value as string];
    case 'json':
      return [JSON.stringify(c.value)];
    case 'user':
      return [(c.value as UserValue).password, (c.value as UserValue).password_hash!];
    case 'rsa':
    case 'ssh':
      return [pemBody((c.value as RsaValue | SshValue).private_key)];
    case 'certificate':
      return [pemBody((c.value as CertificateValue).private_key)];
  }
}

/** The first base64 line of a PEM body: a private key's bytes, whatever header wraps them. */
function pemBody(pem: string): string {
  return pem.split('\n')[1];
}

function rawFiles(dataDir: string): string {
  const files = ['credhub.db', 'credhub.db-wal'].map((f) => join(dataDir, f)).filter(existsSync);
  expect(files).toHaveLength(2);
  return Buffer.concat(files.map((f) => readFileSync(f))).toString('latin1');
}

async function storeEverything(provider: Awaited<ReturnType<typeof openStore>>['provider']): Promise<Credential[]> {
  return [
    ...(await Promise.all(
      [0, 1, 2].map((i) => provider.generate({ name: `/enc/password-${i}`, type: 'password' }, engine)),
    )),
    await provider.generate({ name: '/enc/user', type: 'user' }, engine),
    await provider.generate({ name: '/enc/rsa', type: 'rsa' }, engine),
    await provider.generate({ name: '/enc/ssh', type: 'ssh' }, engine),
    await provider.generate(
      { name: '/enc/ca', type: 'certificate', parameters: { common_name: 'ca', is_ca: true } },
      engine,
    ),
    await provider.generate(
      {
        name: '/enc/leaf',
        type: 'certificate',
        parameters: { common_name: 'leaf', ca: '/enc/ca', key_algorithm: 'ecdsa-p256' },
      },
      engine,
    ),
    await provider.set(
      { name: '/enc/value', type: 'value', value: `marker-${randomBytes(8).toString('hex')}` },
      engine,
    ),
    await provider.set(
      { name: '/enc/json', type: 'json', value: { token: `json-marker-${randomBytes(8).toString('hex')}` } },
      engine,
    ),
  ];
}

describe('encryption at rest', () => {
  it('leaves no secret and no "PRIVATE KEY" in the database file or its WAL, and reads back after a restart', async () => {
    const { provider, dataDir } = await openStore();
    const stored = await storeEverything(provider);
    const raw = rawFiles(dataDir);
    for (const credential of stored)
      for (const secret of secretsOf(credential))
        expect(raw.includes(secret), `${credential.name} in the clear`).toBe(false);
    expect(raw.includes('PRIVATE KEY')).toBe(false);
    // The certificate itself is public and kept in the clear, as CredHub does: the scan would see it.
    expect(
      raw.includes(pemBody((stored.find((c) => c.name === '/enc/leaf')!.value as CertificateValue).certificate)),
    ).toBe(true);
    await provider.destroy();

    const again = await openStore({ dataDir });
    for (const credential of stored)
      expect((await again.provider.get(credential.name, engine)).value).toEqual(credential.value);
  });

  it('refuses to read with another key, naming the key the data needs', async () => {
    const { provider, dataDir } = await openStore();
    await provider.generate({ name: '/enc/p', type: 'password' }, engine);
    await provider.destroy();
    writeFileSync(join(dataDir, 'other.key'), Buffer.alloc(32, 7).toString('base64'));
    const wrong = await openStore({ dataDir, config: { encryption: { key_file: join(dataDir, 'other.key') } } });
    await expect(wrong.provider.get('/enc/p', engine)).rejects.toThrow(
      /encrypted under key [0-9a-f]{16}, but the configured keys are [0-9a-f]{16}/,
    );
    expect(await wrong.provider.keyUsage(engine)).toEqual({ active_key: 0, inactive_keys: 0, unknown_keys: 1 });
  });

  it('detects a value moved to another row or altered in the file', async () => {
    const { provider, dataDir } = await openStore();
    await provider.set({ name: '/enc/a', type: 'value', value: 'alpha' }, engine);
    await provider.set({ name: '/enc/b', type: 'value', value: 'bravo' }, engine);
    await provider.destroy();
    const db = new Sqlite(join(dataDir, 'credhub.db'));
    const a = db.prepare("select sealed, wrapped_key from credential_versions where name = '/enc/a'").get() as {
      sealed: Buffer;
      wrapped_key: Buffer;
    };
    db.prepare("update credential_versions set sealed = ?, wrapped_key = ? where name = '/enc/b'").run(
      a.sealed,
      a.wrapped_key,
    );
    db.close();
    const again = await openStore({ dataDir });
    expect((await again.provider.get('/enc/a', engine)).value).toBe('alpha');
    await expect(again.provider.get('/enc/b', engine)).rejects.toThrow(/fails its integrity check/);
  });

  it('rotates to a new key online: every value re-encrypted with progress, reads go on, the old key can then go', async () => {
    const dataDir = tempDir();
    const oldKey = join(dataDir, 'old.key');
    const newKey = join(dataDir, 'new.key');
    writeFileSync(oldKey, randomBytes(32).toString('base64'));
    writeFileSync(newKey, randomBytes(32).toString('base64'));
    const first = await openStore({ dataDir, config: { encryption: { key_file: oldKey } } });
    const stored = await storeEverything(first.provider);
    for (let i = 0; i < 120; i++)
      await first.provider.set({ name: `/enc/bulk/${i}`, type: 'value', value: `bulk-${i}` }, engine);
    const total = (await first.provider.keyUsage(engine)).active_key;
    await first.provider.destroy();

    const both = await openStore({
      dataDir,
      config: {
        encryption: { keys: [{ key_file: newKey, active: true }, { key_file: oldKey }], rotate_on_start: false },
      },
    });
    expect(await both.provider.keyUsage(engine)).toEqual({ active_key: 0, inactive_keys: total, unknown_keys: 0 });
    const progress: KeyRotationProgress[] = [];
    const reads: Promise<unknown>[] = [];
    const result = await both.provider.rotateEncryptionKeys(engine, {
      batchSize: 25,
      onProgress: (p) => {
        progress.push(p);
        // Reads between batches see a consistent value, under whichever key it is.
        reads.push(both.provider.get('/enc/bulk/7', engine).then((c) => expect(c.value).toBe('bulk-7')));
      },
    });
    await Promise.all(reads);
    expect(result).toMatchObject({ rotated: total, total, remaining: 0, unknown: 0 });
    expect(progress.length).toBe(Math.ceil(total / 25));
    expect(progress.map((p) => p.rotated)).toEqual([...progress.map((p) => p.rotated)].sort((a, b) => a - b));
    expect(progress.at(-1)!.rotated).toBe(total);
    expect(await both.provider.keyUsage(engine)).toEqual({ active_key: total, inactive_keys: 0, unknown_keys: 0 });
    const events = await both.provider.auditEvents({ operation: 'rotate_encryption_keys' }, engine);
    expect(events[0]).toMatchObject({ result: 'success', details: { rotated: total } });
    await both.provider.destroy();

    const newOnly = await openStore({ dataDir, config: { encryption: { key_file: newKey } } });
    for (const credential of stored)
      expect((await newOnly.provider.get(credential.name, engine)).value).toEqual(credential.value);
    expect((await newOnly.provider.get('/enc/bulk/119', engine)).value).toBe('bulk-119');
  }, 30_000);

  it('re-encrypts under the active key at start, in the background', async () => {
    const dataDir = tempDir();
    const oldKey = join(dataDir, 'old.key');
    const newKey = join(dataDir, 'new.key');
    writeFileSync(oldKey, randomBytes(32).toString('base64'));
    writeFileSync(newKey, randomBytes(32).toString('base64'));
    const first = await openStore({ dataDir, config: { encryption: { key_file: oldKey } } });
    await first.provider.set({ name: '/enc/x', type: 'value', value: 'x' }, engine);
    await first.provider.destroy();
    const lines: string[] = [];
    const logger = {
      debug() {},
      info(m: string) {
        lines.push(m);
      },
      warn() {},
      error(m: string) {
        lines.push(m);
      },
      child() {
        return logger;
      },
    };
    const both = await openStore({
      dataDir,
      logger,
      config: { encryption: { keys: [{ key_file: oldKey }, { key_file: newKey, active: true }] } },
    });
    await expect
      .poll(() => both.provider.keyUsage(engine))
      .toEqual({ active_key: 1, inactive_keys: 0, unknown_keys: 0 });
    expect(lines).toContain('encryption key rotation finished');
  });

  it('takes a key from an environment variable, as a key or a passphrase', async () => {
    const dataDir = tempDir();
    const key = randomBytes(32).toString('base64');
    const viaEnv = await openStore({ dataDir, config: { encryption: { key_env: 'SLIPWAY_TEST_KEK' } } }).catch(
      (e) => e,
    );
    expect(String(viaEnv)).toMatch(/SLIPWAY_TEST_KEK .* is not set/);
    process.env.SLIPWAY_TEST_KEK = key;
    try {
      const store = await openStore({ dataDir, config: { encryption: { key_env: 'SLIPWAY_TEST_KEK' } } });
      await store.provider.set({ name: '/enc/env', type: 'value', value: 'from-env' }, engine);
      await store.provider.destroy();
      process.env.SLIPWAY_TEST_KEK = 'a passphrase long enough to stretch';
      const passphrase = await openStore({
        dataDir,
        config: { encryption: { keys: [{ key_env: 'SLIPWAY_TEST_KEK', active: true }] } },
      });
      await expect(passphrase.provider.get('/enc/env', engine)).rejects.toThrow(/encrypted under key/);
    } finally {
      delete process.env.SLIPWAY_TEST_KEK;
    }
  });
});
