import { createRequire } from 'node:module';
import { runIaasConformance, type IaasConformanceOptions } from '@slipway/testkit';
import plugin from '../src/index.js';
import { FAKE_BASE_IMAGE_ID, startFake } from '../fake/index.js';

const packageJson = createRequire(import.meta.url)('../package.json') as {
  name: string;
  slipway: { kind: string; contract: string };
};

const options: IaasConformanceOptions = {
  plugin,
  startFake,
  packageJson,
  // The suite's shared stemcell is a light stemcell: the fake's seeded Glance image, registered by id.
  cloudProperties: { stemcell: { image_id: FAKE_BASE_IMAGE_ID } },
};
runIaasConformance(options);

// The suite again with 10% of the cloud's requests throttled and 10% answered with a 5xx, and the engine's
// retries around the driver: every fault must surface as a retryable error and every verb must be safe to repeat.
runIaasConformance({ ...options, faults: { throttle: 0.1, serverError: 0.1 } });
