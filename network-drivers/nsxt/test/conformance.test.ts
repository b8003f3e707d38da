import { createRequire } from 'node:module';
import { runNetworkConformance } from '@slipway/testkit';
import plugin from '../src/index.js';
import { startFake, type FakeNsxtOptions } from '../fake/index.js';

const packageJson = createRequire(import.meta.url)('../package.json');

// The suite talks to the fake NSX Manager over HTTPS with a principal identity certificate, as TKGI does;
// `capacity` node addresses per cluster: the node pool's allocation range is cut to that many. Isolation is
// checked with the fake's traceflow, which evaluates the distributed-firewall rules the driver wrote.
const start =
  (options: FakeNsxtOptions = {}) =>
  async () => {
    const fake = await startFake(options);
    return {
      config: ({ capacity }: { capacity: number }) => ({ ...fake.config, node_addresses_per_cluster: capacity }),
      credentials: fake.credentials,
      faults: fake.faults,
      canReach: fake.canReach,
      stop: () => fake.stop(),
    };
  };

runNetworkConformance({ plugin, packageJson, startFake: start() });

// The faults run: 10% throttling and 10% 503s on every Policy request. Its 429s carry `Retry-After: 0` so the
// engine's short test backoff, not a second per throttle, paces the run (the driver's test checks Retry-After).
runNetworkConformance({
  plugin,
  packageJson,
  startFake: start({ retryAfterSeconds: 0 }),
  faults: { throttle: 0.1, serverError: 0.1 },
});
