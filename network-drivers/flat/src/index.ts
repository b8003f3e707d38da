import { join } from 'node:path';
import { definePlugin } from '@slipway/contracts';
import { configSchema, type FlatConfig } from './config.js';
import { FlatNetworkDriver } from './driver.js';
import { FlatStateFile } from './store.js';

export { FlatNetworkDriver } from './driver.js';

const ALLOCATIONS = 'allocations.json';
export type { FlatConfig } from './config.js';

export default definePlugin({
  kind: 'network',
  contract: '^2.0.0',
  configSchema,
  async create(config: FlatConfig, host) {
    return new FlatNetworkDriver(config, new FlatStateFile(join(host.dataDir, ALLOCATIONS)));
  },
  // The address allocations are the control plane's record of which VM has which address: a restore
  // without them would hand addresses of running VMs to new ones. Written atomically (temp, rename).
  backup: { files: [ALLOCATIONS] },
});
