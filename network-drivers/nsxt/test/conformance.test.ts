import { createRequire } from 'node:module';
import { runNetworkConformance } from '@slipway/testkit';
import plugin from '../src/index.js';
import { startFake } from '../fake/index.js';

const packageJson = createRequire(import.meta.url)('../package.json');

// The suite talks to the fake NSX Manager over HTTPS with a principal identity certificate, as TKGI does.
// `capacity` addresses per cluster: the node pool's allocation range is cut to that many.
// The current suite does not yet seed a target's credentials into its test host: the wrapper stores them
// through the host's credential provider before the driver reads them.
let seed: Array<{ name: string; type: 'user' | 'certificate'; value: unknown }> = [];
const seeded: typeof plugin = {
  ...plugin,
  async create(config, host) {
    for (const c of seed) await host.credentials!.set({ name: c.name, type: c.type, value: c.value as never }, { actor: 'test' });
    return plugin.create(config, host);
  },
};

runNetworkConformance({
  plugin: seeded,
  packageJson,
  start: async () => {
    const fake = await startFake();
    seed = fake.credentials;
    return {
      config: ({ capacity }) => ({ ...fake.config, node_addresses_per_cluster: capacity }),
      credentials: fake.credentials,
      faults: fake.faults,
      stop: () => fake.stop(),
    };
  },
});
