import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NETWORK_CAPABILITIES, SlipwayError, type NetworkCapability, type PluginModule } from '@slipway/contracts';
import type { FaultRates } from '../iaas/conformance.js';
import { checkSkips, skipReason, type ConformanceSkip } from '../iaas/skips.js';
import { addressTests } from './address-tests.js';
import { NetworkConformanceContext } from './context.js';
import { endpointTests } from './endpoint-tests.js';
import type { StartedNetworkFake } from '@slipway/simulation';
import { convergenceTests, describeStats, errorTests, signalTests } from './fault-tests.js';
import { isolationTests, leftoverTests } from './isolation-tests.js';
import { NETWORK_GROUPS, fullName, type NetworkConformanceTest } from './test.js';
import { topologyTests } from './topology-tests.js';

export interface NetworkConformanceOptions<C = unknown> {
  /** The driver package's default export. */
  plugin: PluginModule<'network', C>;
  /**
   * Starts the wire-level fake of what the driver talks to (NSX-T Manager, say); the suite reaches it only
   * through the driver. Omit it for a driver of local resources (the flat driver) and give `config` instead:
   * the tests that need fault knobs are then skipped, each saying why.
   */
  startFake?: () => Promise<StartedNetworkFake<C>>;
  /** Driver config for a cluster network of exactly `capacity` usable node addresses (without a fake). */
  config?: (options: { iaas: string; capacity: number }) => C | Promise<C>;
  /** Tests the driver cannot pass, each with the reason (shown in the skipped test's title). */
  skip?: ConformanceSkip[];
  /** The package's package.json; when given, its `slipway.kind`/`contract` must agree with the module. */
  packageJson?: { name?: string; slipway?: { kind?: string; contract?: string } };
  /**
   * Runs the suite on a faulty wire: this share of the fake's requests throttled and failing with a 5xx, all
   * the way through, every verb wrapped in the engine's own `withRetry`. Run it beside the plain run.
   */
  faults?: FaultRates;
}

/** Every test of the suite, in order. */
export const NETWORK_CONFORMANCE_TESTS: readonly NetworkConformanceTest[] = Object.freeze([
  ...topologyTests,
  ...addressTests,
  ...endpointTests,
  ...isolationTests,
  ...leftoverTests,
  ...errorTests,
  ...signalTests,
  ...convergenceTests,
]);

/** Names (`group > test`) a skip may use. */
export const NETWORK_CONFORMANCE_TEST_NAMES: readonly string[] = Object.freeze(NETWORK_CONFORMANCE_TESTS.map(fullName));

const NO_FAKE =
  'the driver works on local resources and has no fake: there is no wire to inject faults or latency into';
const SINGLE_FAULT =
  "under random faults the engine's retries absorb the one fault this test injects; the run without faults checks it";
const percent = (share: number) => `${Math.round(share * 100)}%`;

/**
 * Registers the network conformance suite (vitest describe/it) for a driver: topology lifecycle, address
 * allocation, the API endpoint (a VIP following the masters with `lb`), isolation, leftovers, typed errors,
 * signals, and with `faults` whole lifecycles converging through the engine's retries. Tests are gated on the
 * capabilities the driver instance offers, never on its name; every skip says why.
 */
export function runNetworkConformance<C>(options: NetworkConformanceOptions<C>): void {
  const ctx = new NetworkConformanceContext<C>({
    plugin: options.plugin,
    startFake: options.startFake,
    config: options.config,
    faults: options.faults,
  });
  const skips = options.skip ?? [];
  const title = options.faults
    ? `network conformance under ${percent(options.faults.throttle)} throttling and ${percent(options.faults.serverError)} 5xx`
    : 'network conformance';

  describe(title, () => {
    beforeAll(() => ctx.setup(), 60_000);
    afterEach(() => ctx.cleanupTest(), 60_000);
    afterAll(() => ctx.teardown(), 60_000);

    for (const group of NETWORK_GROUPS) {
      describe(group, () => {
        if (group === 'module') registerModuleChecks(ctx, options, skips);
        for (const test of NETWORK_CONFORMANCE_TESTS.filter((t) => t.group === group))
          register(ctx, test, options, skips);
        if (group === 'faults' && options.faults && options.startFake) registerFaultsMet(ctx, options.faults);
      });
    }
  });
}

function register<C>(
  ctx: NetworkConformanceContext<C>,
  test: NetworkConformanceTest,
  options: NetworkConformanceOptions<C>,
  skips: readonly ConformanceSkip[],
): void {
  const reason = staticSkip(test, options, skips);
  if (reason !== undefined) {
    it.skip(`${test.name} (skipped: ${reason})`, () => undefined);
    return;
  }
  const needed =
    test.capability === undefined ? [] : Array.isArray(test.capability) ? test.capability : [test.capability];
  it(
    test.name,
    async (t) => {
      // Capabilities may depend on the instance's config (flat has `lb` only with a load balancer configured), so
      // they are known only after create(): the skip is taken here, with its reason as the note.
      const missing = needed.filter((c) => !ctx.has(c));
      if (missing.length > 0) t.skip(`capability ${missing.join(', ')} not offered by this driver instance`);
      if (test.withoutCapability && ctx.has(test.withoutCapability))
        t.skip(`checks the behaviour without ${test.withoutCapability}, which this instance offers`);
      await test.run(ctx);
    },
    test.timeoutMs ?? 30_000,
  );
}

/** Skips known before the run: the package's own, a capability the module never declares, a missing fake. */
function staticSkip<C>(
  test: NetworkConformanceTest,
  options: NetworkConformanceOptions<C>,
  skips: readonly ConformanceSkip[],
): string | undefined {
  const own = skipReason(skips, fullName(test));
  if (own !== undefined) return own;
  const declared = options.plugin.capabilities ?? [];
  const needed =
    test.capability === undefined ? [] : Array.isArray(test.capability) ? test.capability : [test.capability];
  const undeclared = needed.filter((c) => !declared.includes(c));
  if (undeclared.length > 0) return `capability ${undeclared.join(', ')} not declared`;
  if (test.group === 'faults' && !options.faults) return 'runs only in a faults run (the faults option)';
  if (test.group === 'faults' && !options.startFake) return NO_FAKE;
  if (test.needsFake && !options.startFake) return NO_FAKE;
  if (test.singleFault && options.faults) return SINGLE_FAULT;
  return undefined;
}

function registerFaultsMet<C>(ctx: NetworkConformanceContext<C>, faults: FaultRates): void {
  // Last, so it sees every retry the suite made: a fault rate that never fired would prove nothing.
  it('the suite met the faults and retried them', () => {
    console.info(`network driver under faults: ${describeStats(ctx)}`);
    expect(ctx.stats.retries, "retries the engine's withRetry made").toBeGreaterThan(10);
    const codes = Object.keys(ctx.stats.byCode);
    if (faults.throttle > 0) expect(codes, 'a throttled request is RateLimited').toContain('RateLimited');
    if (faults.serverError > 0) expect(codes, 'a 5xx is Retryable').toContain('Retryable');
  });
}

function registerModuleChecks<C>(
  ctx: NetworkConformanceContext<C>,
  options: NetworkConformanceOptions<C>,
  skips: readonly ConformanceSkip[],
): void {
  it('skips have reasons', () => {
    const problems = checkSkips(skips, NETWORK_CONFORMANCE_TEST_NAMES);
    if (problems.length > 0) {
      throw new SlipwayError(
        'InvalidInput',
        `the skip list of runNetworkConformance is wrong:\n  ${problems.join('\n  ')}\n` +
          'Test names are "group > test", e.g. "endpoint > with lb, each cluster gets its own VIP"; every skip needs a reason.',
        { field: 'skip' },
      );
    }
  });

  it('implements every required verb', () => {
    const { driver } = ctx.ready();
    const required = [
      'prepareCluster',
      'allocateAddress',
      'releaseAddress',
      'listAllocations',
      'ensureApiEndpoint',
      'teardownCluster',
      'destroy',
    ] as const;
    const missing = required.filter((verb) => typeof driver[verb] !== 'function');
    expect(missing, 'verbs the driver returned by create() lacks').toEqual([]);
  });

  it('declares only known capabilities, and offers no more than it declares', () => {
    const declared = options.plugin.capabilities ?? [];
    const unknown = declared.filter((c) => !(NETWORK_CAPABILITIES as readonly string[]).includes(c));
    expect(unknown, `capabilities outside the network contract's (${NETWORK_CAPABILITIES.join(', ')})`).toEqual([]);
    const offered: readonly NetworkCapability[] = ctx.ready().driver.capabilities ?? [];
    expect(
      offered.filter((c) => !declared.includes(c)),
      'the instance offers capabilities its module does not declare',
    ).toEqual([]);
  });

  it('leftovers is offered exactly when listClusterObjects is implemented', () => {
    const { driver } = ctx.ready();
    expect(typeof driver.listClusterObjects === 'function', 'listClusterObjects present').toBe(ctx.has('leftovers'));
  });

  const manifest = options.packageJson;
  if (!manifest) {
    it.skip('package.json agrees with the module (skipped: no packageJson option given)', () => undefined);
    return;
  }
  it('package.json agrees with the module', () => {
    expect(
      manifest.slipway,
      'package.json needs "slipway": { "kind", "contract" } so the loader can check it before importing',
    ).toBeDefined();
    expect(manifest.slipway?.kind, 'package.json slipway.kind').toBe('network');
    expect(manifest.slipway?.contract, 'package.json slipway.contract').toBe(options.plugin.contract);
  });
}
