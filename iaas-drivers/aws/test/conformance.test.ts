import { createRequire } from 'node:module';
import { runIaasConformance } from '@slipway/testkit';
import plugin from '../src/index.js';
import { FAKE_BASE_AMI_ID, startFake } from '../fake/index.js';

const packageJson = createRequire(import.meta.url)('../package.json') as {
  name: string;
  slipway: { kind: string; contract: string };
};

runIaasConformance({
  plugin,
  startFake,
  packageJson,
  // The suite's shared stemcell is a light stemcell: the fake's public base AMI, registered by id.
  cloudProperties: { stemcell: { ami_id: FAKE_BASE_AMI_ID } },
});
