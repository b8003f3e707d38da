import { join } from 'node:path';
import { definePlugin } from '@slipway/contracts';
import { configSchema, type FlatConfig } from './config.js';
import { FlatNetworkDriver } from './driver.js';
import { FlatStateFile } from './store.js';

export { FlatNetworkDriver } from './driver.js';
export type { FlatConfig } from './config.js';

export default definePlugin({
  kind: 'network',
  contract: '^2.0.0',
  configSchema,
  capabilities: ['leftovers'],
  async create(config: FlatConfig, host) {
    return new FlatNetworkDriver(config, new FlatStateFile(join(host.dataDir, 'allocations.json')));
  },
});
