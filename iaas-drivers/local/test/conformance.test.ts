import { createRequire } from 'node:module';
import { runIaasConformance } from '@slipway/testkit';
import plugin from '../src/index.js';
import { startFake } from '../fake/index.js';
import { ensureBuilt } from './support.js';

const packageJson = createRequire(import.meta.url)('../package.json') as { name: string; slipway: { kind: string; contract: string } };

runIaasConformance({
  plugin,
  // Every VM runs the compiled agent as a real child process tree.
  startFake: async () => {
    ensureBuilt();
    return startFake();
  },
  packageJson,
});
