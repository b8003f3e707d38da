import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DesiredState } from '@slipway/contracts';
import { credentialsOf, DesiredStateCache, type AgentCredentials } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'agent-desired-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A key and a certificate for `cn`, made by openssl as the control plane's agent CA would issue one. */
function credentials(cn: string, name: string): AgentCredentials {
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
      `/CN=${cn}`,
      '-days',
      '7',
      '-keyout',
      join(dir, `${name}.key`),
      '-out',
      join(dir, `${name}.pem`),
    ],
    { stdio: 'ignore' },
  );
  return credentialsOf(readFileSync(join(dir, `${name}.pem`), 'utf8'), readFileSync(join(dir, `${name}.key`), 'utf8'));
}

const desired: DesiredState = {
  generation: 3,
  state: 'running',
  jobs: [{ name: 'etcd', processes: ['etcd'] }],
  properties: { cluster: { name: 'prod' }, etcd: { name: 'master-0' } },
} as unknown as DesiredState;

describe('the kept desired state', () => {
  const agent = credentials('agent-1', 'agent-1');
  const cache = new DesiredStateCache(join(dir, 'state', 'desired-state.json'));

  it("is kept 0600 and read back when its signature verifies under the agent's own certificate", async () => {
    expect(await cache.load('agent-1', agent)).toEqual({ refused: 'none' });
    await cache.save(desired, agent, Date.parse('2026-12-07T03:00:00Z'));
    expect(statSync(cache.path).mode & 0o777).toBe(0o600);
    expect(await cache.load('agent-1', agent)).toEqual({ desired, savedAt: '2026-12-07T03:00:00.000Z' });
  });

  it("is refused when edited, when another key signed it, or when it was another VM incarnation's", async () => {
    await cache.save(desired, agent, Date.now());
    const original = readFileSync(cache.path, 'utf8');
    // An edit on disk (a process added, here a changed generation) breaks the signature.
    writeFileSync(cache.path, original.replace('\\"generation\\":3', '\\"generation\\":4'));
    expect(await cache.load('agent-1', agent)).toEqual({ refused: 'bad-signature' });
    writeFileSync(cache.path, original.slice(0, 40));
    expect(await cache.load('agent-1', agent)).toEqual({ refused: 'bad-format' });

    // Signed by another agent's key (a file copied from another VM): its signature does not verify under ours.
    const other = credentials('agent-2', 'agent-2');
    await cache.save(desired, other, Date.now());
    expect(await cache.load('agent-1', agent)).toEqual({ refused: 'bad-signature' });
    // Signed by an older incarnation's identity that this VM still holds: refused by agent id.
    expect(await cache.load('agent-1', other)).toEqual({ refused: 'other-agent' });
    // No credentials on the VM: nothing to verify with, so nothing starts.
    expect(await cache.load('agent-2', undefined)).toEqual({ refused: 'no-credentials' });
  });

  it('verifies again after the agent renewed its certificate (a new key) and signed the copy again', async () => {
    await cache.save(desired, agent, Date.now());
    const renewed = credentials('agent-1', 'agent-1-renewed');
    expect(await cache.load('agent-1', renewed)).toEqual({ refused: 'bad-signature' });
    await cache.save(desired, renewed, Date.now());
    expect(await cache.load('agent-1', renewed)).toMatchObject({ desired });
  });
});
