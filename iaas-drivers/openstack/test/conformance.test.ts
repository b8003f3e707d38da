import { createRequire } from 'node:module';
import { runIaasConformance } from '@slipway/testkit';
import plugin from '../src/index.js';
import { FAKE_BASE_IMAGE_ID, startFake } from '../fake/index.js';

const packageJson = createRequire(import.meta.url)('../package.json') as { name: string; slipway: { kind: string; contract: string } };

runIaasConformance({
  plugin,
  startFake,
  packageJson,
  // The suite's shared stemcell is a light stemcell: the fake's seeded Glance image, registered by id.
  cloudProperties: { stemcell: { image_id: FAKE_BASE_IMAGE_ID } },
  skip: [{
    tests: ['stemcell > creates and deletes a stemcell', 'stemcell > deleting a stemcell twice succeeds', 'stemcell > the same requestId twice gives the same stemcell'],
    reason: 'these tests pass neither an image file nor cloud properties, and an OpenStack stemcell needs one of them: '
      + 'a Glance image without data never becomes active and Nova refuses to boot it (test/driver.test.ts covers upload, idempotency and delete)',
  }],
});
