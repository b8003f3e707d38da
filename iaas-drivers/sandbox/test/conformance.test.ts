import { readFileSync } from 'node:fs';
import { runIaasConformance } from '@slipway/testkit';
import plugin from '../src/index.js';
import { startFake } from '../src/fake.js';

runIaasConformance({
  plugin,
  startFake,
  packageJson: JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')),
});
