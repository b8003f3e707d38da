import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegistryDriver } from '@slipway/contracts';
import { createTestHost, type TestHost } from '@slipway/testkit/simulation';
import plugin from '../src/index.js';
import { startFake, writeOciImage, type StartedHarborFake } from '../fake/index.js';
import { Skopeo } from './skopeo.js';

const PROJECT = 'slipway-data-path';

describe('images through the fake Harbor (docker-registry behind token auth, pushed and pulled with skopeo)', () => {
  let fake: StartedHarborFake;
  let host: TestHost;
  let driver: RegistryDriver;
  let skopeo: Skopeo;
  let work: string;
  let image: string;
  let pushCreds: string;
  let pullCreds: string;

  beforeAll(async () => {
    fake = await startFake();
    host = await createTestHost({ credentials: fake.credentials });
    driver = await plugin.create(fake.config, host);
    work = await mkdtemp(join(tmpdir(), 'slipway-oci-'));
    image = (await writeOciImage(join(work, 'image'), { bytes: 4096 })).dir;
    const { caPem } = await driver.info();
    // The CA the driver read from /systeminfo/getcert is the only trust skopeo gets.
    skopeo = await Skopeo.withCa(caPem!);
    await driver.ensureProject({ project: PROJECT, owner: 'data-path-test' });
    const push = await driver.ensureRobot({ project: PROJECT, robot: 'ci', access: 'push-pull' });
    const pull = await driver.ensureRobot({ project: PROJECT, robot: 'nodes', access: 'pull' });
    pushCreds = `${push.name}:${push.secret}`;
    pullCreds = `${pull.name}:${pull.secret}`;
  }, 60_000);

  afterAll(async () => {
    await driver?.destroy();
    await fake?.stop();
    await skopeo?.cleanup();
    await host?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('pushes as the push robot and pulls back the same manifest as the pull robot', async () => {
    const pushed = await skopeo.copy(`oci:${image}:v1`, `docker://${fake.host}/${PROJECT}/app:v1`, { dest: pushCreds });
    expect(pushed.stderr).toBe('');
    expect(pushed.ok).toBe(true);
    const pulled = await skopeo.copy(`docker://${fake.host}/${PROJECT}/app:v1`, `oci:${join(work, 'pulled')}:v1`, {
      src: pullCreds,
    });
    expect(pulled.ok, pulled.stderr).toBe(true);
    const inspected = await skopeo.inspect(`docker://${fake.host}/${PROJECT}/app:v1`, pullCreds);
    expect(JSON.parse(inspected.stdout).layers).toHaveLength(1);
  }, 60_000);

  it('refuses a push by the pull robot, at the registry itself', async () => {
    const refused = await skopeo.copy(`oci:${image}:v1`, `docker://${fake.host}/${PROJECT}/app:from-pull-robot`, {
      dest: pullCreds,
    });
    expect(refused.ok).toBe(false);
    expect(refused.stderr).toMatch(/denied|unauthorized|authentication required/i);
  }, 60_000);

  it('refuses the push robot a project it has no permission on', async () => {
    await driver.ensureProject({ project: `${PROJECT}-other`, owner: 'data-path-test' });
    const refused = await skopeo.copy(`oci:${image}:v1`, `docker://${fake.host}/${PROJECT}-other/app:v1`, {
      dest: pushCreds,
    });
    expect(refused.ok).toBe(false);
    await driver.deleteProject({ project: `${PROJECT}-other` });
  }, 60_000);

  it('refuses the old secret after a rotation and pulls with the new one', async () => {
    const rotated = await driver.rotateRobotSecret({ project: PROJECT, robot: 'nodes' });
    const old = await skopeo.inspect(`docker://${fake.host}/${PROJECT}/app:v1`, pullCreds);
    expect(old.ok).toBe(false);
    expect(old.stderr).toMatch(/401|unauthorized|invalid/i);
    const fresh = await skopeo.inspect(`docker://${fake.host}/${PROJECT}/app:v1`, `${rotated.name}:${rotated.secret}`);
    expect(fresh.ok, fresh.stderr).toBe(true);
    pullCreds = `${rotated.name}:${rotated.secret}`;
  }, 60_000);

  it("refuses a push over the project's storage quota, at the data path", async () => {
    const small = `${PROJECT}-small`;
    await driver.ensureProject({ project: small, owner: 'data-path-test', storageLimitBytes: 2048 });
    const ci = await driver.ensureRobot({ project: small, robot: 'ci', access: 'push-pull' });
    const refused = await skopeo.copy(`oci:${image}:v1`, `docker://${fake.host}/${small}/app:v1`, {
      dest: `${ci.name}:${ci.secret}`,
    });
    expect(refused.ok).toBe(false);
    expect(refused.stderr).toMatch(/quota exceeded/);
    await driver.ensureProject({ project: small, owner: 'data-path-test', storageLimitBytes: 2 ** 30 });
    const allowed = await skopeo.copy(`oci:${image}:v1`, `docker://${fake.host}/${small}/app:v1`, {
      dest: `${ci.name}:${ci.secret}`,
    });
    expect(allowed.ok, allowed.stderr).toBe(true);
    expect(await driver.deleteProject({ project: small, force: true })).toEqual({ deleted: true });
  }, 60_000);

  it('keeps a project that holds images unless forced, and counts its bytes against the quota', async () => {
    const kept = await driver.deleteProject({ project: PROJECT });
    expect(kept).toEqual({ deleted: false, reason: 'not-empty' });
    const summary = await fetchSummary(fake, PROJECT);
    expect(summary.repo_count).toBe(1);
    expect(summary.quota.used.storage).toBeGreaterThan(4096);
    expect(await driver.deleteProject({ project: PROJECT, force: true })).toEqual({ deleted: true });
    expect(await driver.listProjects!()).toEqual([]);
  }, 60_000);
});

async function fetchSummary(
  fake: StartedHarborFake,
  project: string,
): Promise<{ repo_count: number; quota: { used: { storage: number } } }> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(
      `${fake.url}/api/v2.0/projects/${project}/summary`,
      {
        ca: fake.caPem,
        headers: {
          authorization: `Basic ${Buffer.from(`${fake.admin.username}:${fake.admin.password}`).toString('base64')}`,
        },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve(JSON.parse(text)));
      },
    );
    req.on('error', reject);
    req.end();
  });
}
