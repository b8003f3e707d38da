import { runNetworkConformance } from '../src/index.js';
import { tinyNetwork } from './fixtures/tiny-network.js';

// A complete driver (every capability) over an in-memory network product passes the whole suite, plain and
// under 10% throttling and 10% 5xx through the engine's retries.
const tiny = tinyNetwork();
runNetworkConformance({
  plugin: tiny.plugin,
  startFake: tiny.startFake,
  packageJson: { slipway: { kind: 'network', contract: '^2.1.0' } },
});
runNetworkConformance({ plugin: tiny.plugin, startFake: tiny.startFake, faults: { throttle: 0.1, serverError: 0.1 } });
