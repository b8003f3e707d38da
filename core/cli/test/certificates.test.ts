import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type RunningControlPlane } from '@slipway/api';
import { DEFAULT_CONFIG_YAML } from '@slipway/engine';
import { ADMIN_PASSWORD, UserWorkspace, apiGet } from './harness.js';

let cp: RunningControlPlane;
let home: string;
let user: UserWorkspace;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'slipway-cp-'));
  // The default config without its network version pin (this branch's base installs flat 2.0.0).
  await writeFile(
    join(home, 'slipway.yaml'),
    DEFAULT_CONFIG_YAML.replace(/(plugin: "@slipway\/network-flat"\n)\s+version: "\^1"\n/, '$1'),
  );
  [cp, user] = await Promise.all([
    startControlPlane({ home, port: 0, adminPassword: ADMIN_PASSWORD, env: {}, log: () => {} }),
    UserWorkspace.create(),
  ]);
  expect(
    (await user.run(['login', '-a', cp.url, '-u', 'admin', '-p', ADMIN_PASSWORD, '--ca-cert', cp.caPath])).code,
  ).toBe(0);
  const created = await user.run([
    'create-cluster',
    'certs',
    '-e',
    'certs.example.test',
    '-p',
    'small',
    '-n',
    '1',
    '--wait',
  ]);
  expect(created.code, created.stderr).toBe(0);
}, 90_000);
afterAll(async () => {
  await cp?.stop();
  await user?.remove();
  await rm(home, { recursive: true, force: true });
});

describe('slipway certificates', () => {
  it('prints every certificate with its subject, not-after and days left, soonest first', async () => {
    const run = await user.run(['certificates', 'certs']);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^Name\s+Kind\s+Subject\s+Not After\s+Days Left$/);
    expect(run.stdout).toMatch(
      /kube-apiserver\s+leaf\s+kube-apiserver \(certs\.example\.test, [^)]+, \+\d+\)\s+\d{4}-\d\d-\d\dT[\d:]+Z\s+365\n/,
    );
    expect(run.stdout).toMatch(/kubernetes-ca\s+ca\s+kubernetes-ca\s+\S+\s+3650\n/);
    expect(lines.at(-1)).toMatch(/-ca\s+ca\s/); // the CAs expire last
  });

  it('--days N shows only what expires within N days; --json is the API document', async () => {
    const none = await user.run(['certificates', 'certs', '--days', '30']);
    expect(none.stdout).toBe('No certificate of cluster certs expires within 30 days.\n');
    const leaves = await user.run(['certificates', 'certs', '-d', '400', '--json']);
    const doc = JSON.parse(leaves.stdout) as { certificates: Array<{ kind: string; days_left: number }> };
    expect(doc.certificates.length).toBeGreaterThan(10);
    expect(doc.certificates.every((c) => c.kind !== 'ca')).toBe(true);
    const token = (JSON.parse(await readFile(user.cliConfig, 'utf8')) as { access_token: string }).access_token;
    const api = (await apiGet(cp, token, '/v1/clusters/certs/certificates?days=400')) as typeof doc;
    expect(doc.certificates).toEqual(api.certificates);
    const bad = await user.run(['certificates', 'certs', '--days', 'soon']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--days must be an integer');
  });

  it('after rotate-certificates, tells the user to run get-credentials again, and so does `cluster`', async () => {
    const run = await user.run(['rotate-certificates', 'certs', '--leaf-only', '--wait']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(
      "Run 'slipway get-credentials certs' again: kubeconfigs written before the rotation hold the old certificates.",
    );
    const shown = await user.run(['cluster', 'certs']);
    expect(shown.stdout).toMatch(
      /Its certificates were rotated \(task \d+\)\. Run 'slipway get-credentials certs' again/,
    );
  }, 60_000);
});
