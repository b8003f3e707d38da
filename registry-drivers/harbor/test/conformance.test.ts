import { createRequire } from 'node:module';
import { runRegistryConformance, type RegistryConformanceOptions } from '@slipway/testkit';
import plugin from '../src/index.js';
import { startFake } from '../fake/index.js';

const packageJson = createRequire(import.meta.url)('../package.json') as {
  name: string;
  slipway: { kind: string; contract: string };
};

const options: RegistryConformanceOptions = { plugin, startFake, packageJson };
runRegistryConformance(options);

// Again with 10% of Harbor's API answers throttled and 10% a 5xx, the engine's retries around the driver.
runRegistryConformance({ ...options, faults: { throttle: 0.1, serverError: 0.1 } });
