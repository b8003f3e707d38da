import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CertificateValue, UserValue } from '@slipway/contracts';
import { engine, onCleanup, openStore, tempDir } from './helpers.js';

const openssl = (...args: string[]) =>
  execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('credhub provider: types and generation', () => {
  it('generates every generable type with CredHub parameters and reads each back', async () => {
    const { provider } = await openStore();
    const password = await provider.generate(
      { name: '/t/password', type: 'password', parameters: { length: 40, include_special: true } },
      engine,
    );
    expect(password.value).toHaveLength(40);
    expect(password.value).toMatch(/[^A-Za-z0-9]/);
    const pin = await provider.generate(
      { name: '/t/pin', type: 'password', parameters: { length: 8, exclude_lower: true, exclude_upper: true } },
      engine,
    );
    expect(pin.value).toMatch(/^\d{8}$/);
    const lowerOnly = await provider.generate(
      { name: '/t/lower', type: 'password', parameters: { exclude_upper: true, exclude_number: true } },
      engine,
    );
    expect(lowerOnly.value).toMatch(/^[a-z]{30}$/);

    const user = await provider.generate(
      { name: '/t/user', type: 'user', parameters: { username: 'etcd', length: 24 } },
      engine,
    );
    expect(user.value.username).toBe('etcd');
    expect(user.value.password).toHaveLength(24);
    // The hash is the SHA-512 crypt of the password, as `openssl passwd -6` computes it.
    const salt = user.value.password_hash!.split('$')[2];
    expect(openssl('passwd', '-6', '-salt', salt, user.value.password).trim()).toBe(user.value.password_hash);

    const rsa = await provider.generate({ name: '/t/rsa', type: 'rsa', parameters: { key_length: 3072 } }, engine);
    expect(openssl('pkey', '-pubin', '-noout', '-text', '-in', write(rsa.value.public_key))).toContain('3072 bit');
    const ssh = await provider.generate(
      { name: '/t/ssh', type: 'ssh', parameters: { ssh_comment: 'ops@slipway' } },
      engine,
    );
    expect(ssh.value.public_key).toMatch(/^ssh-rsa AAAA\S+ ops@slipway$/);
    const keygen = execFileSync('ssh-keygen', ['-lf', write(ssh.value.public_key)], { encoding: 'utf8' }).split(' ')[1];
    expect(keygen).toBe(`SHA256:${ssh.value.public_key_fingerprint}`);

    await provider.set({ name: '/t/json', type: 'json', value: { a: [1, 2] } }, engine);
    await provider.set({ name: '/t/value', type: 'value', value: 'plain' }, engine);
    expect((await provider.get('/t/json', engine)).value).toEqual({ a: [1, 2] });
    expect((await provider.get('t/password', engine)).value).toBe(password.value);
    await expect(provider.generate({ name: '/t/v', type: 'value' as 'password' }, engine)).rejects.toThrow(
      /cannot be generated/,
    );
  }, 30_000);

  it('rejects parameters CredHub rejects, naming the field', async () => {
    const { provider } = await openStore();
    const bad = (parameters: Record<string, unknown>, type: 'password' | 'certificate' = 'certificate') =>
      provider.generate({ name: '/t/bad', type, parameters: parameters as never }, engine);
    await expect(bad({ common_name: 'x', is_ca: true, lenght: 3 })).rejects.toMatchObject({
      code: 'InvalidInput',
      field: 'parameters.lenght',
    });
    await expect(bad({ common_name: 'x' })).rejects.toThrow(/specify a signing CA or indicate self-signing/);
    await expect(bad({ common_name: 'x', ca: '/ca', self_sign: true })).rejects.toThrow(
      /'ca' and 'self-sign' cannot be used in combination/,
    );
    await expect(bad({ common_name: 'x', self_sign: true, duration: 4000 })).rejects.toThrow(
      /whole numbers between 1-3650/,
    );
    await expect(bad({ common_name: 'x', self_sign: true, key_length: 1024 })).rejects.toThrow(
      /'2048', '3072' and '4096'/,
    );
    await expect(bad({ common_name: 'x', self_sign: true, key_usage: ['sign_everything'] })).rejects.toThrow(
      /key usage 'sign_everything' is not supported/,
    );
    await expect(bad({ common_name: 'x', self_sign: true, alternative_names: ['not a host'] })).rejects.toMatchObject({
      field: 'parameters.alternative_names',
    });
    await expect(bad({ self_sign: true })).rejects.toThrow(/At least one subject value/);
    await expect(bad({ length: 2 }, 'password')).rejects.toMatchObject({ field: 'parameters.length' });
    await expect(bad({ exclude_lower: true, exclude_upper: true, exclude_number: true }, 'password')).rejects.toThrow(
      /combination of parameters/,
    );
    await expect(
      provider.generate({ name: '/t/m', type: 'password', mode: 'sometimes' as 'converge' }, engine),
    ).rejects.toMatchObject({ field: 'mode' });
    await expect(provider.get('/t//x', engine)).rejects.toMatchObject({ code: 'InvalidInput', field: 'name' });
  });

  it('issues certificates with every subject field, usage and SAN, signed by a named CA that openssl verify accepts', async () => {
    const { provider } = await openStore();
    const ca = await provider.generate(
      {
        name: '/t/ca',
        type: 'certificate',
        parameters: { common_name: 'Test CA', organization: 'Slipway', is_ca: true, duration: 30 },
      },
      engine,
    );
    expect(ca.value.ca_name).toBe('/t/ca');
    expect(ca.value.ca).toBe(ca.value.certificate);
    const leaf = await provider.generate(
      {
        name: '/t/leaf',
        type: 'certificate',
        parameters: {
          common_name: 'api',
          organization: 'Org',
          organization_unit: 'Unit',
          locality: 'Town',
          state: 'State',
          country: 'DE',
          alternative_names: ['api.example.test', '*.apps.example.test', '10.0.0.2'],
          ca: 't/ca',
          key_usage: ['digital_signature', 'key_encipherment'],
          extended_key_usage: ['server_auth', 'client_auth'],
          duration: 10,
          key_length: 3072,
        },
      },
      engine,
    );
    expect(leaf.value.ca).toBe(ca.value.certificate);
    expect(leaf.value.ca_name).toBe('/t/ca');
    expect(
      openssl('verify', '-CAfile', write(ca.value.certificate), '-purpose', 'sslserver', write(leaf.value.certificate)),
    ).toContain('OK');
    const text = openssl('x509', '-noout', '-text', '-in', write(leaf.value.certificate));
    expect(text).toMatch(/Subject: C\s*=\s*DE, ST\s*=\s*State, L\s*=\s*Town, O\s*=\s*Org, OU\s*=\s*Unit, CN\s*=\s*api/);
    expect(text).toContain('DNS:api.example.test, DNS:*.apps.example.test, IP Address:10.0.0.2');
    expect(text).toContain('TLS Web Server Authentication, TLS Web Client Authentication');
    expect(text).toContain('Public-Key: (3072 bit)');
    expect(leaf.expiry_date && Math.round((Date.parse(leaf.expiry_date) - Date.now()) / 86_400_000)).toBe(10);
    const selfSigned = await provider.generate(
      {
        name: '/t/self',
        type: 'certificate',
        parameters: { common_name: 'self', self_sign: true, key_algorithm: 'ecdsa-p256' },
      },
      engine,
    );
    expect(
      openssl('verify', '-CAfile', write(selfSigned.value.certificate), write(selfSigned.value.certificate)),
    ).toContain('OK');

    await expect(
      provider.generate(
        { name: '/t/orphan', type: 'certificate', parameters: { common_name: 'x', ca: '/t/missing' } },
        engine,
      ),
    ).rejects.toThrow(/signing CA \/t\/missing does not exist/);
    await expect(
      provider.generate(
        { name: '/t/by-leaf', type: 'certificate', parameters: { common_name: 'x', ca: '/t/leaf' } },
        engine,
      ),
    ).rejects.toThrow(/not a certificate authority/);
  });

  it('stores a set certificate only when it matches its key and the CA named by ca_name signed it', async () => {
    const { provider } = await openStore();
    const ca = await provider.generate(
      {
        name: '/s/ca',
        type: 'certificate',
        parameters: { common_name: 'ca', is_ca: true, key_algorithm: 'ecdsa-p256' },
      },
      engine,
    );
    const other = await provider.generate(
      {
        name: '/s/other-ca',
        type: 'certificate',
        parameters: { common_name: 'other', is_ca: true, key_algorithm: 'ecdsa-p256' },
      },
      engine,
    );
    const leaf = await provider.generate(
      {
        name: '/s/leaf',
        type: 'certificate',
        parameters: { common_name: 'leaf', ca: '/s/ca', key_algorithm: 'ecdsa-p256' },
      },
      engine,
    );
    const stored = await provider.set(
      {
        name: '/s/copy',
        type: 'certificate',
        value: { ca: null, certificate: leaf.value.certificate, private_key: leaf.value.private_key, ca_name: '/s/ca' },
      },
      engine,
    );
    expect(stored.value.ca).toBe(ca.value.certificate);
    await expect(
      provider.set(
        {
          name: '/s/copy',
          type: 'certificate',
          value: {
            ca: null,
            certificate: leaf.value.certificate,
            private_key: leaf.value.private_key,
            ca_name: '/s/other-ca',
          },
        },
        engine,
      ),
    ).rejects.toThrow(/not signed by the CA specified in the 'ca_name' property/);
    await expect(
      provider.set(
        {
          name: '/s/copy',
          type: 'certificate',
          value: { ca: null, certificate: leaf.value.certificate, private_key: other.value.private_key },
        },
        engine,
      ),
    ).rejects.toThrow(/does not match the private key/);
    await expect(
      provider.set(
        { name: '/s/copy', type: 'certificate', value: { ca: null, certificate: 'garbage', private_key: '' } },
        engine,
      ),
    ).rejects.toThrow(/not a valid X509 certificate/);
    await expect(provider.set({ name: '/s/copy', type: 'password', value: 'p' }, engine)).rejects.toThrow(
      /type cannot be modified/,
    );
    // A statically set value is not regenerated.
    await expect(provider.regenerate('/s/copy', engine)).rejects.toThrow(/statically set/);
  });
});

describe('credhub provider: versions and modes', () => {
  it('adds a version on every write and honours overwrite, no-overwrite and converge', async () => {
    const { provider } = await openStore();
    const first = await provider.generate({ name: '/t/p', type: 'password', parameters: { length: 20 } }, engine);
    const same = await provider.generate(
      { name: '/t/p', type: 'password', parameters: { length: 20 }, mode: 'converge' },
      engine,
    );
    expect(same.id).toBe(first.id);
    const changed = await provider.generate(
      { name: '/t/p', type: 'password', parameters: { length: 24 }, mode: 'converge' },
      engine,
    );
    expect(changed.id).not.toBe(first.id);
    const kept = await provider.generate(
      { name: '/t/p', type: 'password', parameters: { length: 30 }, mode: 'no-overwrite' },
      engine,
    );
    expect(kept.id).toBe(changed.id);
    const forced = await provider.generate(
      { name: '/t/p', type: 'password', parameters: { length: 24 }, mode: 'overwrite' },
      engine,
    );
    const regenerated = await provider.regenerate('/t/p', engine);
    expect(regenerated.value).toHaveLength(24);
    const set = await provider.set({ name: '/t/p', type: 'password', value: 'chosen-by-hand' }, engine);

    expect((await provider.getVersions('/t/p', 10, engine)).map((v) => v.id)).toEqual([
      set.id,
      regenerated.id,
      forced.id,
      changed.id,
      first.id,
    ]);
    expect((await provider.getVersions('/t/p', 2, engine)).map((v) => v.id)).toEqual([set.id, regenerated.id]);
    expect((await provider.get('/t/p', engine)).value).toBe('chosen-by-hand');
    expect((await provider.get('/t/p', engine, { versionId: first.id })).value).toBe(first.value);
    expect((await provider.getVersion(first.id, engine)).value).toBe(first.value);
    // Converge after a set value regenerates: the set value has no generation parameters.
    expect(
      (await provider.generate({ name: '/t/p', type: 'password', parameters: { length: 24 } }, engine)).id,
    ).not.toBe(set.id);

    expect((await provider.find({ path: '/t' }, engine)).map((f) => f.name)).toEqual(['/t/p']);
    await provider.deleteVersion(first.id, engine);
    expect(await provider.getVersions('/t/p', 10, engine)).toHaveLength(5);
    expect(await provider.deleteName('/t/p', engine)).toBe(true);
    await provider.delete('/t/p', engine);
    expect(await provider.deleteName('/t/p', engine)).toBe(false);
    await expect(provider.get('/t/p', engine)).rejects.toMatchObject({ code: 'NotFound' });
    await expect(provider.getVersion(first.id, engine)).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('keeps a regenerated user its username, and converge keeps it too', async () => {
    const { provider } = await openStore();
    const user = await provider.generate({ name: '/t/u', type: 'user' }, engine);
    const again = await provider.regenerate('/t/u', engine);
    expect((again.value as UserValue).username).toBe(user.value.username);
    expect((again.value as UserValue).password).not.toBe(user.value.password);
    expect((await provider.generate({ name: '/t/u', type: 'user' }, engine)).id).toBe(again.id);
  });

  it('rotates a CA through transitional versions: signer, current set and leaf trust follow each step', async () => {
    const { provider } = await openStore();
    const old = await provider.generate(
      {
        name: '/r/ca',
        type: 'certificate',
        parameters: { common_name: 'ca', is_ca: true, key_algorithm: 'ecdsa-p256' },
      },
      engine,
    );
    const leaf = await provider.generate(
      {
        name: '/r/leaf',
        type: 'certificate',
        parameters: { common_name: 'leaf', ca: '/r/ca', key_algorithm: 'ecdsa-p256' },
      },
      engine,
    );

    const fresh = await provider.regenerate('/r/ca', engine, { transitional: true });
    expect(fresh.transitional).toBe(true);
    // The old version still signs and is current; the new one is current alongside it.
    expect((await provider.get('/r/ca', engine)).id).toBe(old.id);
    expect((await provider.getCurrent('/r/ca', engine)).map((v) => [v.id, v.transitional])).toEqual([
      [old.id, false],
      [fresh.id, true],
    ]);
    await expect(provider.regenerate('/r/ca', engine, { transitional: true })).rejects.toThrow(
      /maximum number of transitional versions/,
    );
    // A leaf's ca now spans both CA versions; converge does not reissue it (its signer is unchanged).
    const during = (await provider.get('/r/leaf', engine)) as { value: CertificateValue };
    expect(during.value.ca).toBe(old.value.certificate + fresh.value.certificate);
    expect(
      (
        await provider.generate(
          {
            name: '/r/leaf',
            type: 'certificate',
            parameters: { common_name: 'leaf', ca: '/r/ca', key_algorithm: 'ecdsa-p256' },
          },
          engine,
        )
      ).id,
    ).toBe(leaf.id);
    const early = await provider.regenerate('/r/leaf', engine, { allowTransitionalParentToSign: true });
    expect(isSigned(early.value as CertificateValue, fresh.value.certificate)).toBe(true);

    await provider.setTransitionalVersion('/r/ca', old.id, engine);
    expect((await provider.getCurrent('/r/ca', engine)).map((v) => [v.id, v.transitional])).toEqual([
      [fresh.id, false],
      [old.id, true],
    ]);
    expect(await provider.bulkRegenerate({ signedBy: '/r/ca', onlyOutdated: true }, engine)).toEqual([]);
    expect(await provider.bulkRegenerate({ signedBy: '/r/ca' }, engine)).toEqual(['/r/leaf']);
    const reissued = (await provider.get('/r/leaf', engine)) as { value: CertificateValue };
    expect(isSigned(reissued.value, fresh.value.certificate)).toBe(true);
    expect(reissued.value.ca).toBe(fresh.value.certificate + old.value.certificate);

    await provider.setTransitionalVersion('/r/ca', null, engine);
    expect((await provider.getCurrent('/r/ca', engine)).map((v) => v.id)).toEqual([fresh.id]);
    expect(((await provider.get('/r/leaf', engine)) as { value: CertificateValue }).value.ca).toBe(
      fresh.value.certificate,
    );
    await expect(provider.setTransitionalVersion('/r/ca', leaf.id, engine)).rejects.toThrow(
      /does not belong to the specified credential/,
    );
    const listing = await provider.listCertificates(engine);
    expect(listing.find((c) => c.name === '/r/ca')).toMatchObject({ signed_by: '/r/ca', signs: ['/r/leaf'] });
    expect(listing.find((c) => c.name === '/r/leaf')?.versions).toHaveLength(3);
  });
});

function isSigned(value: CertificateValue, caPem: string): boolean {
  try {
    openssl('verify', '-partial_chain', '-CAfile', write(caPem), write(value.certificate));
    return true;
  } catch {
    return false;
  }
}

let dir: string | undefined;
let n = 0;
function write(content: string): string {
  if (!dir) {
    dir = tempDir('credhub-files-');
    onCleanup(() => {
      dir = undefined;
    });
  }
  const file = join(dir, `f${n++}.pem`);
  writeFileSync(file, content);
  return file;
}
