import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlipwayError, type RegistryDriver } from '@slipway/contracts';
import { createTestHost, type TestHost } from '@slipway/testkit/simulation';
import plugin from '../src/index.js';
import { startFake, type StartedHarborFake } from '../fake/index.js';

async function failure(call: Promise<unknown>): Promise<SlipwayError> {
  try {
    await call;
  } catch (error) {
    if (SlipwayError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('Harbor driver against the fake Harbor API', () => {
  let fake: StartedHarborFake;
  let host: TestHost;
  let driver: RegistryDriver;

  beforeAll(async () => {
    fake = await startFake();
    host = await createTestHost({ credentials: fake.credentials });
    driver = await plugin.create(fake.config, host);
  }, 60_000);
  afterAll(async () => {
    await driver?.destroy();
    await fake?.stop();
    await host?.cleanup();
  });

  it('reads the registry CA from /systeminfo/getcert and the pull host from the URL', async () => {
    const info = await driver.info();
    expect(info).toEqual({ endpoint: fake.host, caPem: fake.caPem, healthy: true });
  });

  it("makes a private project with Harbor's metadata strings, quota and the owner as maintainer", async () => {
    const project = await driver.ensureProject({
      project: 'slipway-shape',
      owner: 'u1',
      storageLimitBytes: 10 * 2 ** 30,
      metadata: { preventVulnerable: true, severity: 'high', autoScan: true, contentTrustCosign: true },
      members: [{ username: 'alice', role: 'maintainer' }],
    });
    const stored = [...fake.state.projects.values()].find((p) => p.name === 'slipway-shape')!;
    expect(stored.metadata).toEqual({
      public: 'false',
      prevent_vul: 'true',
      severity: 'high',
      auto_scan: 'true',
      enable_content_trust_cosign: 'true',
    });
    expect(stored.storageLimit).toBe(10 * 2 ** 30);
    expect([...fake.state.members.values()].filter((m) => m.projectId === stored.id)).toMatchObject([
      { username: 'alice', roleId: 4 },
    ]);
    expect(project).toMatchObject({ project: 'slipway-shape', id: String(stored.id), storageLimitBytes: 10 * 2 ** 30 });
  });

  it('makes project-level robots with repository pull (and push) on their one project', async () => {
    await driver.ensureProject({ project: 'slipway-robots', owner: 'u1' });
    const pull = await driver.ensureRobot({ project: 'slipway-robots', robot: 'nodes', access: 'pull' });
    const push = await driver.ensureRobot({ project: 'slipway-robots', robot: 'ci', access: 'push-pull' });
    expect(pull.name).toBe('robot$slipway-robots+nodes');
    const stored = fake.state.robots.get(Number(push.id))!;
    expect(stored.level).toBe('project');
    expect(stored.permissions).toEqual([
      {
        kind: 'project',
        namespace: 'slipway-robots',
        access: [
          { resource: 'repository', action: 'pull' },
          { resource: 'repository', action: 'push' },
        ],
      },
    ]);
    // Asking for the pull robot with push access widens it in place: same robot, same secret.
    const widened = await driver.ensureRobot({ project: 'slipway-robots', robot: 'nodes', access: 'push-pull' });
    expect(widened).toMatchObject({ name: pull.name, id: pull.id, access: 'push-pull' });
    expect(fake.state.robots.get(Number(pull.id))!.secret).toBe(pull.secret);
  });

  it('reads back a project an earlier attempt made (a lost answer) and converges it', async () => {
    fake.state.createProject({ project_name: 'slipway-lost', metadata: { severity: 'low' } });
    const project = await driver.ensureProject({
      project: 'slipway-lost',
      owner: 'u1',
      metadata: { severity: 'critical', preventVulnerable: true },
    });
    expect(project.metadata).toMatchObject({ severity: 'critical', preventVulnerable: true, public: false });
  });

  it('returns an existing robot without a secret and leaves its secret alone', async () => {
    await driver.ensureProject({ project: 'slipway-race', owner: 'u1' });
    const first = await driver.ensureRobot({ project: 'slipway-race', robot: 'nodes', access: 'pull' });
    expect(first.secret).toBeTruthy();
    const again = await driver.ensureRobot({ project: 'slipway-race', robot: 'nodes', access: 'pull' });
    expect(again).toEqual({ name: first.name, id: first.id, access: 'pull', expiresAt: undefined });
    expect(fake.state.robots.get(Number(first.id))!.secret).toBe(first.secret);
  });

  it('retries later when Harbor says a robot exists that it cannot list yet (409 on create)', async () => {
    await driver.ensureProject({ project: 'slipway-race', owner: 'u1' });
    fake.faults.failNext('createRobot', { status: 409, code: 'CONFLICT', message: 'robot account already exists' });
    const error = await failure(driver.ensureRobot({ project: 'slipway-race', robot: 'ci', access: 'push-pull' }));
    expect(error).toMatchObject({ code: 'Conflict', retryable: true });
    expect(
      (await driver.ensureRobot({ project: 'slipway-race', robot: 'ci', access: 'push-pull' })).secret,
    ).toBeTruthy();
  });

  it("sends the call's requestId as X-Request-Id and keeps Harbor's code, message and request id in the error", async () => {
    fake.faults.failNext('createProject', { status: 403, code: 'FORBIDDEN', message: 'forbidden by policy' });
    const error = await failure(
      driver.ensureProject({ project: 'slipway-denied', owner: 'u1' }, { requestId: 'req-1234' }),
    );
    expect(error.code).toBe('Forbidden');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('forbidden by policy');
    expect(error.details).toMatchObject({
      cloudCode: 'FORBIDDEN',
      cloudRequestId: 'req-1234',
      status: 403,
      operation: 'createProject',
    });
  });

  it('maps throttling to RateLimited with Retry-After and a 5xx to Retryable', async () => {
    fake.faults.throttleNext('listProjects');
    const throttled = await failure(driver.listProjects!());
    expect(throttled).toMatchObject({ code: 'RateLimited', retryable: true, retryAfterMs: 1000 });
    fake.faults.serverErrorNext('listProjects');
    expect(await failure(driver.listProjects!())).toMatchObject({ code: 'Retryable', retryable: true });
  });

  it('says which credential is wrong when Harbor refuses the password', async () => {
    const otherHost = await createTestHost({
      credentials: [
        { name: fake.config.credentials_ref, type: 'user', value: { username: 'admin', password: 'wrong' } },
      ],
    });
    const wrong = await plugin.create(fake.config, otherHost);
    const error = await failure(wrong.ensureProject({ project: 'slipway-x', owner: 'u1' }));
    expect(error.code).toBe('Unauthenticated');
    expect(error.hint).toMatch(/credentials_ref/);
    await wrong.destroy();
    await otherHost.cleanup();
  });

  it('refuses a credential that is not a user credential, naming the field', async () => {
    const otherHost = await createTestHost({
      credentials: [{ name: fake.config.credentials_ref, type: 'value', value: 'admin:secret' }],
    });
    const error = await failure(plugin.create(fake.config, otherHost));
    expect(error).toMatchObject({ code: 'InvalidConfig', field: 'credentials_ref' });
    expect(error.message).toContain(fake.config.credentials_ref);
    await otherHost.cleanup();
  });

  it('is refused by the fake with 403 when a project robot calls the admin API', async () => {
    await driver.ensureProject({ project: 'slipway-robot-api', owner: 'u1' });
    const robot = await driver.ensureRobot({ project: 'slipway-robot-api', robot: 'nodes', access: 'pull' });
    const robotHost = await createTestHost({
      credentials: [
        { name: fake.config.credentials_ref, type: 'user', value: { username: robot.name, password: robot.secret } },
      ],
    });
    const asRobot = await plugin.create(fake.config, robotHost);
    expect((await failure(asRobot.ensureProject({ project: 'slipway-y', owner: 'u1' }))).code).toBe('Forbidden');
    await asRobot.destroy();
    await robotHost.cleanup();
  });
});
