import { createRequire } from 'node:module';
import { runIaasConformance } from '@slipway/testkit';
import plugin from '../src/index.js';
import { startFake } from '../fake/index.js';

const packageJson = createRequire(import.meta.url)('../package.json') as {
  name: string;
  slipway: { kind: string; contract: string };
};

// No skips: stemcells without a source are copied from the fake config's stemcell_source_image
// (images.insert from the public image family), which is also how an operator's driver config works.
runIaasConformance({ plugin, startFake, packageJson });
