import { createRequire } from 'node:module';
import { runNetworkConformance } from '@slipway/testkit';
import plugin from '../src/index.js';

const packageJson = createRequire(import.meta.url)('../package.json');

// A flat range is a local resource: no fake, the config is enough. The pool of exactly `capacity` addresses:
// a /28's hosts .1-.14, less the gateway (.1) and a reserved tail.
runNetworkConformance({
  plugin,
  packageJson,
  config: ({ iaas, capacity }) => ({ ranges: { [iaas]: { cidr: '10.99.0.0/28', reserved: [`10.99.0.${2 + capacity}-10.99.0.14`] } } }),
});
