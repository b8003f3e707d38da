import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CertificateValue, CredentialProvider, PluginHost } from '@slipway/contracts';
import plugin from '../src/index.js';

const ctx = { actor: 'test' };
const quiet = { debug() {}, info() {}, warn() {}, error() {}, child() { return quiet; } };

async function open(dataDir = mkdtempSync(join(tmpdir(), 'credhub-')), config = {}): Promise<{ provider: CredentialProvider; dataDir: string }> {
  const host: PluginHost = { logger: quiet, clock: { now: Date.now, sleep: async () => {} }, dataDir, instanceName: 'default' };
  return { provider: await plugin.create(config, host), dataDir };
}

describe('credhub provider', () => {
  it('generates every type and reads each back', async () => {
    const { provider } = await open();
    const password = await provider.generate({ name: '/t/password', type: 'password', parameters: { length: 40, include_special: true } }, ctx);
    expect(password.value).toHaveLength(40);
    expect(/[^A-Za-z0-9]/.test(password.value)).toBe(true);
    const digitsOnly = await provider.generate({ name: '/t/pin', type: 'password', parameters: { length: 8, exclude_lower: true, exclude_upper: true } }, ctx);
    expect(digitsOnly.value).toMatch(/^\d{8}$/);
    const user = await provider.generate({ name: '/t/user', type: 'user', parameters: { username: 'etcd' } }, ctx);
    expect(user.value.username).toBe('etcd');
    const rsa = await provider.generate({ name: '/t/rsa', type: 'rsa' }, ctx);
    expect(rsa.value.private_key).toContain('PRIVATE KEY');
    const ssh = await provider.generate({ name: '/t/ssh', type: 'ssh', parameters: { ssh_comment: 'ops@slipway' } }, ctx);
    expect(ssh.value.public_key).toMatch(/^ssh-rsa AAAA\S+ ops@slipway$/);
    expect(ssh.value.public_key_fingerprint).toMatch(/^[A-Za-z0-9+/]{43}$/);
    await provider.set({ name: '/t/json', type: 'json', value: { a: [1, 2] } }, ctx);
    expect((await provider.get('/t/json', ctx)).value).toEqual({ a: [1, 2] });
    expect((await provider.get('t/password', ctx)).value).toBe(password.value);
  });

  it('signs leaves with a named CA that openssl verify accepts', async () => {
    const { provider } = await open();
    const ca = await provider.generate({ name: '/t/ca', type: 'certificate', parameters: { common_name: 'ca', is_ca: true } }, ctx);
    const leaf = await provider.generate({ name: '/t/leaf', type: 'certificate', parameters: { common_name: 'api', ca: '/t/ca', alternative_names: ['api.example.test', '10.0.0.2'], extended_key_usage: ['server_auth'] } }, ctx);
    expect(leaf.value.ca).toBe(ca.value.certificate);
    expect(leaf.value.ca_name).toBe('/t/ca');
    const dir = mkdtempSync(join(tmpdir(), 'verify-'));
    writeFileSync(join(dir, 'ca.pem'), ca.value.certificate);
    writeFileSync(join(dir, 'leaf.pem'), leaf.value.certificate);
    expect(execFileSync('openssl', ['verify', '-CAfile', join(dir, 'ca.pem'), join(dir, 'leaf.pem')], { encoding: 'utf8' })).toContain('OK');
    await expect(provider.generate({ name: '/t/orphan', type: 'certificate', parameters: { common_name: 'x', ca: '/t/missing' } }, ctx)).rejects.toThrow(/signing CA \/t\/missing does not exist/);
  });

  it('keeps versions and honours overwrite, no-overwrite and converge', async () => {
    const { provider } = await open();
    const first = await provider.generate({ name: '/t/p', type: 'password', parameters: { length: 20 } }, ctx);
    const same = await provider.generate({ name: '/t/p', type: 'password', parameters: { length: 20 }, mode: 'converge' }, ctx);
    expect(same.id).toBe(first.id);
    const changed = await provider.generate({ name: '/t/p', type: 'password', parameters: { length: 24 }, mode: 'converge' }, ctx);
    expect(changed.id).not.toBe(first.id);
    const kept = await provider.generate({ name: '/t/p', type: 'password', parameters: { length: 30 }, mode: 'no-overwrite' }, ctx);
    expect(kept.id).toBe(changed.id);
    const forced = await provider.generate({ name: '/t/p', type: 'password', parameters: { length: 24 }, mode: 'overwrite' }, ctx);
    const versions = await provider.getVersions('/t/p', 10, ctx);
    expect(versions.map((v) => v.id)).toEqual([forced.id, changed.id, first.id]);
    expect((await provider.get('/t/p', ctx, { versionId: first.id })).value).toBe(first.value);
    expect((await provider.find({ path: '/t' }, ctx)).map((f) => f.name)).toEqual(['/t/p']);
    await provider.delete('/t/p', ctx);
    await provider.delete('/t/p', ctx);
    await expect(provider.get('/t/p', ctx)).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('stores no secret in plaintext, in the database file or its WAL, and reads back after a restart', async () => {
    const { provider, dataDir } = await open();
    const secrets: string[] = [];
    for (let i = 0; i < 5; i++) secrets.push((await provider.generate({ name: `/t/s${i}`, type: 'password' }, ctx)).value);
    const cert = await provider.generate({ name: '/t/ca', type: 'certificate', parameters: { common_name: 'ca', is_ca: true } }, ctx);
    const marker = 'plain-marker-7f3a9c';
    await provider.set({ name: '/t/value', type: 'value', value: marker }, ctx);
    const files = ['credhub.db', 'credhub.db-wal'].map((f) => join(dataDir, f)).filter(existsSync);
    expect(files.length).toBe(2);
    const raw = Buffer.concat(files.map((f) => readFileSync(f))).toString('latin1');
    for (const s of [...secrets, marker]) expect(raw.includes(s)).toBe(false);
    expect(raw.includes('PRIVATE KEY')).toBe(false);
    expect(raw.includes((cert.value as CertificateValue).private_key.split('\n')[1])).toBe(false);
    await provider.destroy();

    const again = await open(dataDir);
    expect((await again.provider.get('/t/s3', ctx)).value).toBe(secrets[3]);
    await again.provider.destroy();

    // Another key cannot read the store, and says which key the data needs.
    writeFileSync(join(dataDir, 'other.key'), Buffer.alloc(32, 7).toString('base64'));
    const wrong = await open(dataDir, { encryption: { key_file: join(dataDir, 'other.key') } });
    await expect(wrong.provider.get('/t/s3', ctx)).rejects.toThrow(/encrypted under key [0-9a-f]{16}, but the configured key/);
    await wrong.provider.destroy();
  });
});
