import { Ajv } from 'ajv';
import semver from 'semver';
import { expect } from 'vitest';
import { CONTRACT_VERSION, IAAS_CAPABILITIES } from '@slipway/contracts';
import type { ConformanceTest } from './conformance-test.js';

/** The plugin module's shape, checked as the engine's loader checks it before calling create(). */
export const moduleTests: ConformanceTest[] = [
  {
    group: 'module',
    name: 'is an iaas plugin module',
    async run(ctx) {
      const plugin = ctx.plugin;
      expect(plugin.kind, 'plugin.kind').toBe('iaas');
      expect(typeof plugin.create, 'plugin.create must be a function').toBe('function');
      expect(
        typeof plugin.configSchema === 'object' && plugin.configSchema !== null,
        'plugin.configSchema must be a JSON Schema object',
      ).toBe(true);
    },
  },
  {
    group: 'module',
    name: 'implements the contract this Slipway provides',
    async run(ctx) {
      const range = ctx.plugin.contract;
      expect(
        semver.validRange(range),
        `plugin.contract "${range}" must be a semver range such as ^1.0.0`,
      ).not.toBeNull();
      expect(
        semver.satisfies(CONTRACT_VERSION, range),
        `contract ${CONTRACT_VERSION} (this Slipway) must satisfy plugin.contract "${range}"`,
      ).toBe(true);
    },
  },
  {
    group: 'module',
    name: 'declares only known capabilities',
    async run(ctx) {
      const unknown = ctx.capabilities.filter((c) => !(IAAS_CAPABILITIES as readonly string[]).includes(c));
      expect(
        unknown,
        `unknown capabilities ${unknown.join(', ')}; they must come from ${IAAS_CAPABILITIES.join(', ')}`,
      ).toEqual([]);
    },
  },
  {
    group: 'module',
    name: 'config schema compiles and accepts the fake config',
    async run(ctx) {
      // The same ajv settings as the engine's plugin loader.
      const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
      const validate = ajv.compile(ctx.plugin.configSchema);
      const config = structuredClone(ctx.fakeConfig());
      const valid = validate(config);
      const errors = (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'}: ${e.message ?? e.keyword}`);
      expect(valid, `the fake config must pass the plugin config schema: ${errors.join('; ')}`).toBe(true);
    },
  },
  {
    group: 'module',
    name: 'info() names the driver and its api version',
    async run(ctx) {
      const info = await ctx.ready().driver.info();
      expect(typeof info.name === 'string' && info.name.length > 0, 'info().name must be a non-empty string').toBe(
        true,
      );
      expect(
        Number.isInteger(info.apiVersion) && info.apiVersion >= 1,
        'info().apiVersion must be an integer >= 1',
      ).toBe(true);
      expect(Array.isArray(info.stemcellFormats), 'info().stemcellFormats must be an array').toBe(true);
    },
  },
];
