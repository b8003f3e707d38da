import { createRequire } from 'node:module';
import { runIaasConformance } from '@slipway/testkit';
import plugin from '../src/index.js';
import { startFake } from '../fake/index.js';

const packageJson = createRequire(import.meta.url)('../package.json') as { name: string; slipway: { kind: string; contract: string } };

// No cloud properties: every stemcell the suite makes is a clone of the fake's golden template (the config's
// base_template), snapshotted, so its VMs are linked clones.
runIaasConformance({ plugin, startFake, packageJson });
