import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  PLUGIN_MATURITIES,
  SlipwayError,
  type PluginModule,
  type RegistryCapability,
  type RegistryDriver,
  type RegistryInfo,
  type RobotAccount,
} from '@slipway/contracts';
import { withEngineRetries, type RetryStats } from '../iaas/engine-retries.js';
import { checkSkips, skipReason, type ConformanceSkip } from '../iaas/skips.js';
import { createTestHost, type TestHost } from '../test-host.js';
import { probeRepositoryAccess } from './data-path.js';
import type { StartedRegistryFake } from '@slipway/simulation';

export interface RegistryConformanceOptions {
  plugin: PluginModule<'registry', any>;
  /** Starts the registry's fake (API and a real data path); the suite reaches it over the wire, through the driver. */
  startFake: () => Promise<StartedRegistryFake>;
  /** Tests the driver cannot pass, each with the reason. Names are `group > test`. */
  skip?: ConformanceSkip[];
  packageJson?: { name?: string; slipway?: { kind?: string; contract?: string; maturity?: string } };
  /** Project name prefix the driver's config expects (Harbor driver: `slipway-`). Default `slipway-`. */
  projectPrefix?: string;
  /** The suite again on a faulty registry API, with the engine's retries around the driver. */
  faults?: { throttle: number; serverError: number };
}

interface Ctx {
  fake: StartedRegistryFake;
  host: TestHost;
  driver: RegistryDriver;
  info: RegistryInfo;
  capabilities: readonly string[];
  /** Projects a test made, removed after it whatever happened. */
  made: Set<string>;
  project(): string;
}

interface RegistryTest {
  group: 'module' | 'project' | 'robots' | 'teardown' | 'errors' | 'signal';
  name: string;
  capability?: RegistryCapability;
  run(ctx: Ctx): Promise<void>;
}

const REQUIRED = [
  'info',
  'ensureProject',
  'ensureRobot',
  'rotateRobotSecret',
  'deleteRobot',
  'deleteProject',
  'destroy',
] as const;
const SINGLE_FAULT_TESTS = [
  'errors > throttling is a retryable SlipwayError',
  'errors > a registry 5xx is a retryable SlipwayError',
];

async function expectError(call: Promise<unknown>, what: string): Promise<SlipwayError> {
  try {
    const value = await call;
    throw new Error(`${what} must fail, but it returned ${JSON.stringify(value)}`);
  } catch (error) {
    expect(SlipwayError.is(error), `${what} must throw a SlipwayError, got ${String(error)}`).toBe(true);
    return error as SlipwayError;
  }
}

const access = (ctx: Ctx, robot: RobotAccount, secret: string, project: string) =>
  probeRepositoryAccess(ctx.info.endpoint, ctx.info.caPem, { username: robot.name, secret }, `${project}/conformance`);

const TESTS: RegistryTest[] = [
  {
    group: 'project',
    name: 'ensures a project idempotently',
    async run(ctx) {
      const project = ctx.project();
      const first = await ctx.driver.ensureProject({ project, owner: 'conformance' });
      const again = await ctx.driver.ensureProject({ project, owner: 'conformance' });
      expect(again).toEqual(first);
      expect(first.project).toBe(project);
      expect(first.metadata.public, 'a project is private unless asked').not.toBe(true);
    },
  },
  {
    group: 'project',
    name: 'reports its projects for leftover checks',
    capability: 'leftovers',
    async run(ctx) {
      const project = ctx.project();
      await ctx.driver.ensureProject({ project, owner: 'conformance' });
      expect((await ctx.driver.listProjects!()).map((p) => p.project)).toContain(project);
    },
  },
  {
    group: 'project',
    name: 'sets and converges the vulnerability policy',
    capability: 'vulnerability',
    async run(ctx) {
      const project = ctx.project();
      const made = await ctx.driver.ensureProject({
        project,
        owner: 'conformance',
        metadata: { preventVulnerable: true, severity: 'high', autoScan: true },
      });
      expect(made.metadata).toMatchObject({ preventVulnerable: true, severity: 'high', autoScan: true });
      const changed = await ctx.driver.ensureProject({
        project,
        owner: 'conformance',
        metadata: { severity: 'critical', autoScan: false },
      });
      expect(changed.metadata).toMatchObject({ preventVulnerable: true, severity: 'critical', autoScan: false });
    },
  },
  {
    group: 'project',
    name: 'sets cosign content trust',
    capability: 'cosign',
    async run(ctx) {
      const project = ctx.project();
      expect(
        (await ctx.driver.ensureProject({ project, owner: 'conformance', metadata: { contentTrustCosign: true } }))
          .metadata.contentTrustCosign,
      ).toBe(true);
      expect(
        (await ctx.driver.ensureProject({ project, owner: 'conformance', metadata: { contentTrustCosign: false } }))
          .metadata.contentTrustCosign,
      ).toBe(false);
    },
  },
  {
    group: 'project',
    name: 'sets and changes the storage quota',
    capability: 'quota',
    async run(ctx) {
      const project = ctx.project();
      expect(
        (await ctx.driver.ensureProject({ project, owner: 'conformance', storageLimitBytes: 2 ** 30 }))
          .storageLimitBytes,
      ).toBe(2 ** 30);
      expect(
        (await ctx.driver.ensureProject({ project, owner: 'conformance', storageLimitBytes: 5 * 2 ** 30 }))
          .storageLimitBytes,
      ).toBe(5 * 2 ** 30);
    },
  },
  {
    group: 'project',
    name: 'adds members idempotently',
    capability: 'members',
    async run(ctx) {
      const project = ctx.project();
      const input = {
        project,
        owner: 'conformance',
        members: [{ username: 'conformance-owner', role: 'maintainer' as const }],
      };
      const first = await ctx.driver.ensureProject(input);
      expect(await ctx.driver.ensureProject(input)).toEqual(first);
    },
  },
  {
    group: 'robots',
    name: 'a pull robot pulls and is refused a push, at the registry',
    async run(ctx) {
      const project = ctx.project();
      await ctx.driver.ensureProject({ project, owner: 'conformance' });
      const robot = await ctx.driver.ensureRobot({ project, robot: 'nodes', access: 'pull' });
      expect(robot.secret, 'a new robot comes with its secret').toBeTruthy();
      expect(await access(ctx, robot, robot.secret!, project)).toEqual({
        authenticated: true,
        pull: true,
        push: false,
      });
      const again = await ctx.driver.ensureRobot({ project, robot: 'nodes', access: 'pull' });
      expect(again.name).toBe(robot.name);
      expect(again.secret, 'an existing robot is returned without a secret').toBeUndefined();
      expect((await access(ctx, robot, robot.secret!, project)).pull, 'a repeat leaves the secret as it was').toBe(
        true,
      );
    },
  },
  {
    group: 'robots',
    name: 'a push robot pushes, and nothing beyond its project',
    capability: 'robot.push',
    async run(ctx) {
      const project = ctx.project();
      const other = ctx.project();
      await ctx.driver.ensureProject({ project, owner: 'conformance' });
      await ctx.driver.ensureProject({ project: other, owner: 'conformance' });
      const robot = await ctx.driver.ensureRobot({ project, robot: 'ci', access: 'push-pull' });
      expect(await access(ctx, robot, robot.secret!, project)).toEqual({ authenticated: true, pull: true, push: true });
      expect(await access(ctx, robot, robot.secret!, other)).toMatchObject({ pull: false, push: false });
    },
  },
  {
    group: 'robots',
    name: 'a rotated secret works and the old one is refused',
    async run(ctx) {
      const project = ctx.project();
      await ctx.driver.ensureProject({ project, owner: 'conformance' });
      const robot = await ctx.driver.ensureRobot({ project, robot: 'nodes', access: 'pull' });
      const rotated = await ctx.driver.rotateRobotSecret({ project, robot: 'nodes' });
      expect(rotated.secret).not.toBe(robot.secret);
      expect(rotated.name).toBe(robot.name);
      expect((await access(ctx, robot, robot.secret!, project)).authenticated, 'the old secret').toBe(false);
      expect((await access(ctx, rotated, rotated.secret, project)).pull, 'the new secret').toBe(true);
    },
  },
  {
    group: 'robots',
    name: 'rotating a robot that does not exist is NotFound',
    async run(ctx) {
      const project = ctx.project();
      await ctx.driver.ensureProject({ project, owner: 'conformance' });
      const error = await expectError(
        ctx.driver.rotateRobotSecret({ project, robot: 'absent' }),
        'rotateRobotSecret of a missing robot',
      );
      expect(error.code).toBe('NotFound');
    },
  },
  {
    group: 'robots',
    name: 'a deleted robot is refused, and deleting it again succeeds',
    async run(ctx) {
      const project = ctx.project();
      await ctx.driver.ensureProject({ project, owner: 'conformance' });
      const robot = await ctx.driver.ensureRobot({ project, robot: 'nodes', access: 'pull' });
      await ctx.driver.deleteRobot({ project, robot: 'nodes' });
      await ctx.driver.deleteRobot({ project, robot: 'nodes' });
      expect((await access(ctx, robot, robot.secret!, project)).authenticated).toBe(false);
    },
  },
  {
    group: 'teardown',
    name: 'deleting robots and an empty project leaves nothing',
    async run(ctx) {
      const project = ctx.project();
      await ctx.driver.ensureProject({ project, owner: 'conformance' });
      const robot = await ctx.driver.ensureRobot({ project, robot: 'nodes', access: 'pull' });
      await ctx.driver.deleteRobot({ project, robot: 'nodes' });
      expect(await ctx.driver.deleteProject({ project })).toEqual({ deleted: true });
      expect(await ctx.driver.deleteProject({ project }), 'deleting what is gone succeeds').toEqual({ deleted: true });
      expect((await access(ctx, robot, robot.secret!, project)).pull).toBe(false);
      expect(
        (
          await expectError(
            ctx.driver.ensureRobot({ project, robot: 'nodes', access: 'pull' }),
            'a robot in a deleted project',
          )
        ).code,
      ).toBe('NotFound');
      if (ctx.capabilities.includes('leftovers'))
        expect((await ctx.driver.listProjects!()).map((p) => p.project)).not.toContain(project);
    },
  },
  {
    group: 'errors',
    name: 'throttling is a retryable SlipwayError',
    async run(ctx) {
      ctx.fake.faults.throttleNext('ensureProject');
      const project = ctx.project();
      const error = await expectError(
        ctx.driver.ensureProject({ project, owner: 'conformance' }),
        'ensureProject while throttled',
      );
      expect(error.retryable, `got ${error.code}`).toBe(true);
      await ctx.driver.ensureProject({ project, owner: 'conformance' });
    },
  },
  {
    group: 'errors',
    name: 'a registry 5xx is a retryable SlipwayError',
    async run(ctx) {
      const project = ctx.project();
      await ctx.driver.ensureProject({ project, owner: 'conformance' });
      await ctx.driver.ensureRobot({ project, robot: 'nodes', access: 'pull' });
      ctx.fake.faults.serverErrorNext('rotateRobotSecret');
      const error = await expectError(
        ctx.driver.rotateRobotSecret({ project, robot: 'nodes' }),
        'rotateRobotSecret on a 5xx',
      );
      expect(error.retryable, `got ${error.code}`).toBe(true);
      expect((await ctx.driver.rotateRobotSecret({ project, robot: 'nodes' })).secret).toBeTruthy();
    },
  },
  {
    group: 'errors',
    name: 'a bad project name is InvalidInput naming the field',
    async run(ctx) {
      const error = await expectError(
        ctx.driver.ensureProject({ project: 'Not A Name!', owner: 'conformance' }),
        'ensureProject with a bad name',
      );
      expect(error.code).toBe('InvalidInput');
      expect(error.retryable).toBe(false);
    },
  },
  {
    group: 'signal',
    name: 'an aborted signal is Cancelled',
    async run(ctx) {
      const controller = new AbortController();
      controller.abort();
      const call = ctx.driver.ensureProject(
        { project: ctx.project(), owner: 'conformance' },
        { signal: controller.signal },
      );
      expect((await expectError(call, 'an aborted call')).code).toBe('Cancelled');
    },
  },
];

function missingVerbs(ctx: Ctx): string[] {
  const driver = ctx.driver as unknown as Record<string, unknown>;
  const missing: string[] = REQUIRED.filter((verb) => typeof driver[verb] !== 'function');
  if (ctx.capabilities.includes('leftovers') && typeof driver.listProjects !== 'function') missing.push('listProjects');
  return missing;
}

export const REGISTRY_CONFORMANCE_TEST_NAMES: readonly string[] = Object.freeze(
  TESTS.map((t) => `${t.group} > ${t.name}`),
);

/**
 * Registers the registry conformance suite: projects, metadata, quota, members, robots checked against the
 * registry's own data path (a pull robot pulls and cannot push; a rotated-away secret is refused), teardown,
 * errors and signals. Optional parts run only when the plugin declares their capability.
 */
export function runRegistryConformance(options: RegistryConformanceOptions): void {
  const faults = options.faults;
  const stats: RetryStats = { retries: 0, byCode: {} };
  const plugin = faults ? withEngineRetries(options.plugin, stats) : options.plugin;
  const skips = options.skip ?? [];
  const ownSkips: ConformanceSkip[] = faults
    ? [
        {
          tests: SINGLE_FAULT_TESTS.filter((n) => skipReason(skips, n) === undefined),
          reason:
            "under random faults the engine's retries absorb the one fault this test injects; the run without faults checks it",
        },
      ].filter((s) => s.tests.length)
    : [];
  const prefix = options.projectPrefix ?? 'slipway-';
  const run = randomUUID().slice(0, 8);
  let seq = 0;
  let ctx: Ctx | undefined;
  const percent = (share: number) => `${Math.round(share * 100)}%`;
  const title = faults
    ? `registry conformance under ${percent(faults.throttle)} throttling and ${percent(faults.serverError)} 5xx`
    : 'registry conformance';

  describe(title, () => {
    beforeAll(async () => {
      const fake = await options.startFake();
      if (faults) {
        const reset = fake.faults.reset.bind(fake.faults);
        fake.faults.setFaultRates(faults);
        fake.faults.reset = () => {
          reset();
          fake.faults.setFaultRates(faults);
        };
      }
      const host = await createTestHost({ credentials: fake.credentials, instanceName: 'conformance' });
      const driver = await plugin.create(fake.config, host);
      ctx = {
        fake,
        host,
        driver,
        info: await driver.info(),
        capabilities: options.plugin.capabilities ?? [],
        made: new Set(),
        project() {
          const name = `${prefix}conf-${run}-${++seq}`;
          this.made.add(name);
          return name;
        },
      };
    }, 60_000);
    afterEach(async () => {
      if (!ctx) return;
      ctx.fake.faults.reset();
      // A driver still being written (the scaffold) has no delete verbs yet: the verb test says so, once.
      if (missingVerbs(ctx).length > 0) return ctx.made.clear();
      for (const project of ctx.made) {
        // Under faults ctx.driver carries the engine's retries, so the cleanup survives them too.
        for (const robot of ['nodes', 'ci']) await ctx.driver.deleteRobot({ project, robot });
        await ctx.driver.deleteProject({ project, force: true });
      }
      ctx.made.clear();
    }, 60_000);
    afterAll(async () => {
      await ctx?.driver.destroy();
      await ctx?.fake.stop();
      await ctx?.host.cleanup();
    });

    describe('module', () => {
      it('skips have reasons', () => {
        const problems = checkSkips(skips, REGISTRY_CONFORMANCE_TEST_NAMES);
        if (problems.length)
          throw new SlipwayError(
            'InvalidInput',
            `the skip list of runRegistryConformance is wrong:\n  ${problems.join('\n  ')}`,
            { field: 'skip' },
          );
      });
      it('implements every required verb', () => {
        const missing = missingVerbs(ctx!);
        if (missing.length > 0) {
          throw new SlipwayError('Unsupported', `the driver returned by create() lacks: ${missing.join(', ')}`, {
            details: { missing },
          });
        }
      });
      it('reports a healthy registry with an endpoint', () => {
        expect(ctx!.info.healthy).toBe(true);
        expect(ctx!.info.endpoint).toMatch(/^[A-Za-z0-9.-]+(:\d+)?$/);
      });
      if (options.packageJson) {
        it('package.json agrees with the module', () => {
          const { kind, contract, maturity } = options.packageJson!.slipway ?? {};
          expect({ kind, contract }).toEqual({ kind: 'registry', contract: options.plugin.contract });
          if (maturity !== undefined) expect(PLUGIN_MATURITIES, 'package.json slipway.maturity').toContain(maturity);
        });
      } else {
        it.skip('package.json agrees with the module (skipped: no packageJson option given)', () => undefined);
      }
    });

    for (const group of ['project', 'robots', 'teardown', 'errors', 'signal'] as const) {
      describe(group, () => {
        for (const test of TESTS.filter((t) => t.group === group)) {
          const name = `${test.group} > ${test.name}`;
          const reason = skipReason([...skips, ...ownSkips], name);
          if (reason !== undefined) it.skip(`${test.name} (skipped: ${reason})`, () => undefined);
          else if (test.capability && !(options.plugin.capabilities ?? []).includes(test.capability)) {
            it.skip(`${test.name} (skipped: capability ${test.capability} not declared)`, () => undefined);
          } else it(test.name, () => test.run(ctx!), 30_000);
        }
      });
    }

    if (faults) {
      describe('faults', () => {
        it('the suite met the faults and retried them', () => {
          const byCode = Object.entries(stats.byCode)
            .map(([c, n]) => `${c} ${n}`)
            .join(', ');
          console.info(
            `${options.packageJson?.name ?? 'the driver'} under faults: ${stats.retries} retries (${byCode})`,
          );
          expect(stats.retries).toBeGreaterThan(10);
          if (faults.throttle > 0) expect(Object.keys(stats.byCode)).toContain('RateLimited');
          if (faults.serverError > 0) expect(Object.keys(stats.byCode)).toContain('Retryable');
        });
      });
    }
  });
}
