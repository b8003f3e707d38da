import { runIaasConformance } from '../src/index.js';
import { tinyIaas } from './fixtures/tiny-driver.js';

// A complete driver over an in-memory cloud passes the whole suite.
const tiny = tinyIaas();
runIaasConformance({
  plugin: tiny.plugin,
  startFake: tiny.startFake,
  packageJson: { name: 'tiny', slipway: { kind: 'iaas', contract: '^1.0.0' } },
});
