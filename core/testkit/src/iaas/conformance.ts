import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SlipwayError, type PluginModule } from '@slipway/contracts';
import { CONFORMANCE_GROUPS, fullName, type ConformanceTest } from './conformance-test.js';
import { IaasConformanceContext, type ConformanceCloudProperties } from './context.js';
import { diskTests } from './disk-tests.js';
import { withEngineRetries, type RetryStats } from './engine-retries.js';
import type { StartedFake } from '@slipway/simulation';
import { concurrencyTests, errorTests, signalTests } from './fault-tests.js';
import { moduleTests } from './module-tests.js';
import { checkSkips, skipReason, type ConformanceSkip } from './skips.js';
import { missingIaasVerbs } from './verbs.js';
import { stemcellTests, vmTests } from './vm-tests.js';

export interface IaasConformanceOptions {
  /** The driver package's default export. */
  plugin: PluginModule<'iaas', any>;
  /** Starts the driver's fake; the suite reaches it over the wire, through the driver. */
  startFake: () => Promise<StartedFake>;
  /** Tests the driver cannot pass, each with the reason (shown in the skipped test's title). */
  skip?: ConformanceSkip[];
  /** The package's package.json; when given, its `slipway.kind`/`contract` must agree with the module. */
  packageJson?: { name?: string; slipway?: { kind?: string; contract?: string } };
  /** Cloud-specific extras passed to createStemcell / createVm / createDisk. */
  cloudProperties?: ConformanceCloudProperties;
  /**
   * Runs the suite on a faulty cloud: this share of the fake's requests throttled and failing with a 5xx, all
   * the way through, with the engine's retries around the driver. Passing means every fault surfaces as a
   * retryable error and every verb is safe to repeat (no second VM, disk or stemcell). Run it beside the
   * plain run, which checks the single-fault tests this one skips.
   */
  faults?: FaultRates;
}

export interface FaultRates {
  /** Share of requests answered with the cloud's throttling error, 0–1. */
  throttle: number;
  /** Share of requests answered with a 5xx, 0–1. */
  serverError: number;
}

/** In a run under faults: the tests that need one fault to reach them, which the engine's retries absorb. */
const SINGLE_FAULT_TESTS = [
  'errors > throttling is a retryable SlipwayError',
  'errors > a cloud 5xx is a retryable SlipwayError',
];

/** Every skippable test of the suite, in order. */
export const IAAS_CONFORMANCE_TESTS: readonly ConformanceTest[] = Object.freeze([
  ...moduleTests,
  ...stemcellTests,
  ...vmTests,
  ...diskTests,
  ...errorTests,
  ...signalTests,
  ...concurrencyTests,
]);

/** Names (`group > test`) a skip may use. */
export const IAAS_CONFORMANCE_TEST_NAMES: readonly string[] = Object.freeze(IAAS_CONFORMANCE_TESTS.map(fullName));

/**
 * Registers the IaaS conformance suite (vitest describe/it) for a driver against its fake. Tests of optional
 * verbs run only when the plugin declares the capability; every test cleans up what it created; a skip
 * without a reason fails the suite (test `module > skips have reasons`).
 */
export function runIaasConformance(options: IaasConformanceOptions): void {
  const faults = options.faults;
  const stats: RetryStats = { retries: 0, byCode: {} };
  const plugin = faults ? withEngineRetries(options.plugin, stats) : options.plugin;
  const startFake = faults ? () => startFaultyFake(options.startFake, faults) : options.startFake;
  const skips = options.skip ?? [];
  const ownSkips = faults
    ? [
        {
          tests: SINGLE_FAULT_TESTS.filter((name) => skipReason(skips, name) === undefined),
          reason:
            "under random faults the engine's retries absorb the one fault this test injects; the run without faults checks it",
        },
      ].filter((s) => s.tests.length)
    : [];
  const ctx = new IaasConformanceContext(plugin, startFake, options.cloudProperties);
  const title = faults
    ? `IaaS conformance under ${percent(faults.throttle)} throttling and ${percent(faults.serverError)} 5xx`
    : 'IaaS conformance';

  describe(title, () => {
    beforeAll(() => ctx.setup());
    afterEach(() => ctx.cleanupTest());
    afterAll(() => ctx.teardown());

    for (const group of CONFORMANCE_GROUPS) {
      describe(group, () => {
        if (group === 'module') registerSuiteChecks(ctx, options, skips);
        for (const test of IAAS_CONFORMANCE_TESTS.filter((t) => t.group === group))
          register(ctx, test, [...skips, ...ownSkips]);
      });
    }
    if (faults) {
      describe('faults', () => {
        // Last, so it sees every retry the suite made: a fault rate that never fired would prove nothing.
        it('the suite met the faults and retried them', () => {
          console.info(
            `${options.packageJson?.name ?? 'the driver'} under faults: ${stats.retries} retries (${Object.entries(
              stats.byCode,
            )
              .map(([c, n]) => `${c} ${n}`)
              .join(', ')})`,
          );
          expect(stats.retries, 'retries the engine-style wrapper made').toBeGreaterThan(10);
          const codes = Object.keys(stats.byCode);
          if (faults.throttle > 0) expect(codes, 'a throttled request is RateLimited').toContain('RateLimited');
          if (faults.serverError > 0) expect(codes, 'a 5xx is Retryable').toContain('Retryable');
        });
      });
    }
  });
}

/** The fake with its fault rates on, and kept on: the suite resets faults after each test so its cleanup runs clean. */
async function startFaultyFake(startFake: () => Promise<StartedFake>, rates: FaultRates): Promise<StartedFake> {
  const fake = await startFake();
  const reset = fake.faults.reset.bind(fake.faults);
  fake.faults.setFaultRates(rates);
  fake.faults.reset = () => {
    reset();
    fake.faults.setFaultRates(rates);
  };
  return fake;
}

const percent = (share: number) => `${Math.round(share * 100)}%`;

/**
 * The suite's only skips, each with its reason in the test's title so a report shows why: a skip the driver's
 * package asked for (its reason is mandatory, checked by `module > skips have reasons`), and tests of optional
 * verbs whose capability the plugin does not declare.
 */
function register(ctx: IaasConformanceContext, test: ConformanceTest, skips: readonly ConformanceSkip[]): void {
  const reason = skipReason(skips, fullName(test));
  if (reason !== undefined) {
    it.skip(`${test.name} (skipped: ${reason})`, () => undefined);
    return;
  }
  if (test.capability && !ctx.has(test.capability)) {
    it.skip(`${test.name} (skipped: capability ${test.capability} not declared)`, () => undefined);
    return;
  }
  it(test.name, () => test.run(ctx), test.timeoutMs ?? 20_000);
}

/** Checks about the suite's own inputs and the driver's completeness; not skippable. */
function registerSuiteChecks(
  ctx: IaasConformanceContext,
  options: IaasConformanceOptions,
  skips: readonly ConformanceSkip[],
): void {
  it('skips have reasons', () => {
    const problems = checkSkips(skips, IAAS_CONFORMANCE_TEST_NAMES);
    if (problems.length > 0) {
      throw new SlipwayError(
        'InvalidInput',
        `the skip list of runIaasConformance is wrong:\n  ${problems.join('\n  ')}\n` +
          `Test names are "group > test", e.g. "disk > snapshot round-trip"; every skip needs a reason.`,
        { field: 'skip' },
      );
    }
  });

  it('implements every required verb', () => {
    const { driver } = ctx.ready();
    const missing = missingIaasVerbs(driver, ctx.capabilities);
    if (missing.length > 0) {
      throw new SlipwayError('Unsupported', `the driver returned by create() lacks: ${missing.join(', ')}`, {
        details: { missing },
      });
    }
  });

  const manifest = options.packageJson;
  if (!manifest) {
    // Skipped, not failed: a caller that gives no package.json (the testkit's own fixtures) has nothing to compare.
    it.skip('package.json agrees with the module (skipped: no packageJson option given)', () => undefined);
    return;
  }
  it('package.json agrees with the module', () => {
    expect(
      manifest.slipway,
      'package.json needs "slipway": { "kind", "contract" } so the loader can check it before importing',
    ).toBeDefined();
    expect(manifest.slipway?.kind, 'package.json slipway.kind').toBe(options.plugin.kind);
    expect(manifest.slipway?.contract, 'package.json slipway.contract').toBe(options.plugin.contract);
  });
}
