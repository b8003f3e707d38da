import { createRequire } from 'node:module';
import { runIaasConformance, type IaasConformanceOptions } from '@slipway/testkit';
import plugin from '../src/index.js';
import { startFake } from '../fake/index.js';

const packageJson = createRequire(import.meta.url)('../package.json') as {
  name: string;
  slipway: { kind: string; contract: string };
};

// No cloud properties: every stemcell the suite makes is a clone of the fake's golden template (the config's
// base_template), snapshotted, so its VMs are linked clones.
const options: IaasConformanceOptions = { plugin, startFake, packageJson };
runIaasConformance(options);

// The suite again with some of vCenter's requests throttled and some answered with a 5xx, and the engine's
// retries around the driver: every fault must surface as a retryable error and every verb must be safe to repeat.
// 5% each, not the 10% of the other clouds: one createVm is about fifteen SOAP requests (clone, reconfigure,
// property reads, power on), so at 10% each most attempts of it meet a fault somewhere and 20 attempts are not
// always enough; at 5% the suite still meets about two hundred faults.
runIaasConformance({ ...options, faults: { throttle: 0.05, serverError: 0.05 } });
