import { createRequire } from 'node:module';
import { runIaasConformance, type IaasConformanceOptions } from '@slipway/testkit';
import plugin from '../src/index.js';
import { FAKE_STEMCELL_BLOB, startFake } from '../fake/index.js';

const packageJson = createRequire(import.meta.url)('../package.json') as {
  name: string;
  slipway: { kind: string; contract: string };
};

const options: IaasConformanceOptions = {
  plugin,
  startFake,
  packageJson,
  // The VMs boot from a managed image the driver makes of the fake's VHD blob; the stemcell tests, which pass
  // no cloud properties, register the platform image the fake's config names as marketplace_image.
  cloudProperties: { stemcell: { source_uri: FAKE_STEMCELL_BLOB } },
};
runIaasConformance(options);

// The suite again with some of ARM's requests throttled and some answered with a 5xx, and the engine's retries
// around the driver: every fault must surface as a retryable error and every verb must be safe to repeat.
// 5% each, as for vSphere: one createVm is about a dozen ARM requests (the VM's and NIC's reads and PUTs, then
// the operation's polls), and the driver sends each once (the engine owns retries), so at 10% each most
// attempts meet a fault; with 50 concurrent creates one of them now and then still failed after 20 attempts
// (seen once in a CI run). At 5% the suite still meets about ninety faults.
runIaasConformance({ ...options, faults: { throttle: 0.05, serverError: 0.05 } });
