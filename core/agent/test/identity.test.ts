import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createKeyAndRequest, credentialsOf, FileCredentialStore } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'agent-identity-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the agent's key and certificate request", () => {
  it('makes a P-256 key and a CSR for its agent id that openssl verifies', async () => {
    const { keyPem, csrPem } = await createKeyAndRequest('agent-7f3a');
    writeFileSync(join(dir, 'agent.csr'), csrPem);
    const out = execFileSync(
      'openssl',
      ['req', '-in', join(dir, 'agent.csr'), '-noout', '-verify', '-subject', '-text'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    expect(out).toMatch(/subject=\s*CN\s*=\s*agent-7f3a/);
    expect(out).toContain('prime256v1');
    expect(keyPem).toContain('BEGIN PRIVATE KEY');
    // Two requests, two keys: a renewal never reuses the key it replaces.
    expect((await createKeyAndRequest('agent-7f3a')).keyPem).not.toBe(keyPem);
  });

  it('keeps key and certificate in one 0600 file in a 0700 directory, and reads back what it wrote', async () => {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-subj',
        '/CN=agent-1',
        '-days',
        '7',
        '-keyout',
        join(dir, 'leaf.key'),
        '-out',
        join(dir, 'leaf.pem'),
      ],
      { stdio: 'ignore' },
    );
    const leaf = {
      certificatePem: readFileSync(join(dir, 'leaf.pem'), 'utf8'),
      privateKeyPem: readFileSync(join(dir, 'leaf.key'), 'utf8'),
    };
    const store = new FileCredentialStore(join(dir, 'identity'));
    expect(await store.load()).toBeUndefined();
    const credentials = credentialsOf(leaf.certificatePem, leaf.privateKeyPem);
    expect(credentials.agentId).toBe('agent-1');
    await store.save(credentials);
    expect(statSync(store.path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'identity')).mode & 0o777).toBe(0o700);
    expect(await store.load()).toEqual(credentials);
    // A torn or foreign file counts as none: the agent bootstraps instead of dialing with garbage.
    writeFileSync(store.path, '-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n');
    expect(await store.load()).toBeUndefined();
  });
});
