import { readFileSync } from 'node:fs';
import { runIaasConformance, type IaasConformanceOptions } from '@slipway/testkit';
import plugin from '../src/index.js';
import { startFake } from '../src/fake.js';

const options: IaasConformanceOptions = {
  plugin,
  startFake,
  packageJson: JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')),
};
runIaasConformance(options);

// The suite again with 10% of the cloud's requests throttled and 10% answered with a 5xx, and the engine's
// retries around the driver: every fault must surface as a retryable error and every verb must be safe to repeat.
runIaasConformance({ ...options, faults: { throttle: 0.1, serverError: 0.1 } });
