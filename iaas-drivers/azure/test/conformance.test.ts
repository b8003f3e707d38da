import { createRequire } from 'node:module';
import { runIaasConformance } from '@slipway/testkit';
import plugin from '../src/index.js';
import { FAKE_STEMCELL_BLOB, startFake } from '../fake/index.js';

const packageJson = createRequire(import.meta.url)('../package.json') as { name: string; slipway: { kind: string; contract: string } };

runIaasConformance({
  plugin,
  startFake,
  packageJson,
  // The VMs boot from a managed image the driver makes of the fake's VHD blob; the stemcell tests, which pass
  // no cloud properties, register the platform image the fake's config names as marketplace_image.
  cloudProperties: { stemcell: { source_uri: FAKE_STEMCELL_BLOB } },
});
