import { join } from 'node:path';
import { definePlugin } from '@slipway/contracts';
import { SandboxCloud } from './cloud.js';
import { configSchema, type SandboxConfig } from './config.js';
import { SandboxIaasDriver } from './driver.js';

export { SandboxIaasDriver } from './driver.js';
export { SandboxMetadataSource } from './metadata.js';
export type { SandboxConfig } from './config.js';

export default definePlugin({
  kind: 'iaas',
  contract: '^1.0.0',
  configSchema,
  capabilities: ['vm.reboot', 'disk.resize', 'disk.snapshot', 'inventory', 'rehearsal'],
  async create(config: SandboxConfig, host) {
    const file = config.state_file ?? join(host.dataDir, 'sandbox.json');
    const cloud = SandboxCloud.open(file, host.logger, config.boot_delay_ms ?? 0);
    return new SandboxIaasDriver(cloud, config);
  },
});
