import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlipwayError } from '@slipway/contracts';
import { openCredhubProvider, type CredhubCredentialProvider } from '@slipway/credentials-credhub';
import { createCredhubApi } from '@slipway/credentials-credhub/http';
import { createCertificate } from '@slipway/pki';
import { UserWorkspace } from './harness.js';

const TOKENS: Record<string, { actor: string; roles: string[] }> = {
  'admin-token': { actor: 'user:admin', roles: ['clusters.admin'] },
  'alice-token': { actor: 'user:alice', roles: ['clusters.manage'] },
};

/**
 * The credential API as `slipway up` serves it (mounted at the root of the HTTPS server), over a real
 * credhub store, and a user's CLI logged in to it.
 */
let provider: CredhubCredentialProvider;
let server: ReturnType<typeof createServer>;
let storeDir: string;
let user: UserWorkspace;
let api: string;
let caFile: string;

async function loginAs(token: string): Promise<Record<string, string>> {
  const config = join(user.dir, `${token}.json`);
  await writeFile(
    config,
    JSON.stringify({
      api,
      user: TOKENS[token].actor,
      ca_cert: caFile,
      access_token: token,
      expires_at: new Date(Date.now() + 3_600_000).toISOString(),
    }),
    { mode: 0o600 },
  );
  return { SLIPWAY_CLI_CONFIG: config };
}

beforeAll(async () => {
  storeDir = await mkdtemp(join(tmpdir(), 'cli-credhub-'));
  provider = await openCredhubProvider({ dataDir: storeDir });
  const app = createCredhubApi({
    provider,
    rootEndpoints: false,
    async authenticate(token) {
      if (!TOKENS[token]) throw new SlipwayError('Unauthenticated', 'the token is unknown or expired');
      return TOKENS[token];
    },
  });
  const ca = await createCertificate({
    subject: { commonName: 'cli-test-ca' },
    isCa: true,
    keyAlgorithm: 'ecdsa-p256',
  });
  const tls = await createCertificate(
    {
      subject: { commonName: '127.0.0.1' },
      altNames: ['127.0.0.1'],
      extendedKeyUsage: ['server_auth'],
      keyAlgorithm: 'ecdsa-p256',
    },
    { certificatePem: ca.certificatePem, privateKeyPem: ca.privateKeyPem },
  );
  server = createServer({ cert: tls.certificatePem, key: tls.privateKeyPem }, getRequestListener(app.fetch));
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  api = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  user = await UserWorkspace.create();
  caFile = join(user.dir, 'ca.pem');
  await mkdir(dirname(caFile), { recursive: true });
  await writeFile(caFile, ca.certificatePem);
});

afterAll(async () => {
  await new Promise<void>((ok) => {
    server.closeAllConnections();
    server.close(() => ok());
  });
  await provider.destroy();
  await rm(storeDir, { recursive: true, force: true });
  await user.remove();
});

describe('slipway credentials', () => {
  it('sets, generates, gets, finds, regenerates and deletes credentials over the credential API', async () => {
    const admin = { env: await loginAs('admin-token') };
    const set = await user.run(
      ['credentials', 'set', '/app/db', '-t', 'json', '-v', '{"user":"app","password":"s3cret"}'],
      admin,
    );
    expect(set).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^Stored \/app\/db \(json\), version [0-9a-f-]{36}\.\n$/),
    });
    const got = await user.run(['credentials', 'get', '/app/db'], admin);
    expect(got.code).toBe(0);
    expect(got.stdout).toMatch(
      /^id: [0-9a-f-]{36}\nname: \/app\/db\ntype: json\nvalue:\n {2}user: app\n {2}password: s3cret\n/,
    );
    expect((await user.run(['credentials', 'get', '/app/db', '-k', 'password'], admin)).stdout).toBe('s3cret\n');

    expect(
      (
        await user.run(
          ['credentials', 'generate', '/app/password', '-t', 'password', '-l', '40', '--include-special'],
          admin,
        )
      ).code,
    ).toBe(0);
    const password = (await user.run(['credentials', 'get', '/app/password', '-q'], admin)).stdout.trim();
    expect(password).toHaveLength(40);
    expect(
      (
        await user.run(
          ['credentials', 'generate', '/app/password', '-t', 'password', '-l', '40', '--include-special'],
          admin,
        )
      ).code,
    ).toBe(0);
    expect((await user.run(['credentials', 'get', '/app/password', '-q'], admin)).stdout.trim()).toBe(password);

    await user.run(
      ['credentials', 'generate', '/app/ca', '-t', 'certificate', '--common-name', 'app-ca', '--is-ca'],
      admin,
    );
    const leaf = await user.run(
      [
        'credentials',
        'generate',
        '/app/tls',
        '-t',
        'certificate',
        '--common-name',
        'app.example.test',
        '--alternative-name',
        'app.example.test,10.0.0.5',
        '--ca',
        '/app/ca',
        '--ext-key-usage',
        'server_auth',
        '--json',
      ],
      admin,
    );
    expect(JSON.parse(leaf.stdout)).toMatchObject({
      name: '/app/tls',
      type: 'certificate',
      certificate_authority: false,
    });
    expect((await user.run(['credentials', 'get', '/app/tls', '-k', 'certificate'], admin)).stdout).toMatch(
      /^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/,
    );

    const regenerated = await user.run(['credentials', 'regenerate', '/app/password'], admin);
    expect(regenerated.stdout).toMatch(/^Regenerated \/app\/password: version /);
    const versions = JSON.parse(
      (await user.run(['credentials', 'get', '/app/password', '--versions', '2', '--json'], admin)).stdout,
    );
    expect(versions).toHaveLength(2);
    expect(versions[1].value).toBe(password);
    expect((await user.run(['credentials', 'get', '--id', versions[1].id, '-q'], admin)).stdout.trim()).toBe(password);
    expect(
      (await user.run(['credentials', 'regenerate', '/app/ca', '--transitional', '--json'], admin)).stdout,
    ).toContain('"transitional": true');

    const found = await user.run(['credentials', 'find', '--path', '/app'], admin);
    expect(found.stdout.split('\n')[0]).toMatch(/^Name\s+Version Created At$/);
    expect(found.stdout).toContain('/app/tls');
    expect(found.stdout).toContain('/app/db');
    expect(
      JSON.parse((await user.run(['credentials', 'find', '-n', 'TLS', '--json'], admin)).stdout).map(
        (c: { name: string }) => c.name,
      ),
    ).toEqual(['/app/tls']);

    const asked = await user.run(['credentials', 'delete', '/app/db'], admin);
    expect(asked).toMatchObject({ code: 2, stderr: expect.stringContaining('pass --non-interactive') });
    expect((await user.run(['credentials', 'delete', '/app/db', '--non-interactive'], admin)).stdout).toBe(
      'Deleted /app/db and all its versions.\n',
    );
    const gone = await user.run(['credentials', 'get', '/app/db'], admin);
    expect(gone).toMatchObject({
      code: 1,
      stderr: expect.stringContaining(
        'Error: The request could not be completed because the credential does not exist or you do not have sufficient authorization.',
      ),
    });
  });

  it("refuses another user's credential exactly as a missing one, and shows the denial in the audit trail", async () => {
    const admin = { env: await loginAs('admin-token') };
    const alice = { env: await loginAs('alice-token') };
    await user.run(['credentials', 'set', '/ops/root', '-t', 'password', '-v', 'hunter2'], admin);
    const denied = await user.run(['credentials', 'get', '/ops/root'], alice);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain(
      'Error: The request could not be completed because the credential does not exist or you do not have sufficient authorization.',
    );
    expect(denied.stderr).not.toContain('/ops/root');
    expect(await user.run(['credentials', 'get', '/ops/nothing-here'], alice)).toEqual(denied);
    expect((await user.run(['credentials', 'find', '--path', '/ops'], alice)).stdout).toBe(
      'No credentials found (or none you may read).\n',
    );

    const trail = await user.run(['credentials', 'audit', '--result', 'denied'], admin);
    expect(trail.code).toBe(0);
    const [header, ...rows] = trail.stdout.split('\n');
    const row = rows.find((r) => r.includes('/ops/root'));
    expect(header).toMatch(/^Time\s+Actor\s+Operation\s+Name\s+Result\s+Source\s+Version$/);
    expect(row).toMatch(/user:alice\s+get\s+\/ops\/root\s+denied\s+127\.0\.0\.1/);
    const own = JSON.parse((await user.run(['credentials', 'audit', '--json'], alice)).stdout);
    expect(own.every((e: { actor: string }) => e.actor === 'user:alice')).toBe(true);
  });

  it('names the flag when the command line is wrong', async () => {
    const admin = { env: await loginAs('admin-token') };
    expect(await user.run(['credentials', 'generate', '/x', '-t', 'value'], admin)).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--type must be one of password, user, certificate, rsa, ssh; got "value"'),
    });
    expect(await user.run(['credentials', 'set', '/x', '-t', 'json', '-v', '{oops'], admin)).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--value is not JSON'),
    });
    expect(await user.run(['credentials', 'get'], admin)).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('give a credential NAME or --id ID'),
    });
    const invalid = await user.run(
      ['credentials', 'generate', '/x', '-t', 'certificate', '--common-name', 'x', '--duration', '9000', '--self-sign'],
      admin,
    );
    expect(invalid).toMatchObject({ code: 1, stderr: expect.stringContaining('whole numbers between 1-3650') });
  });
});
