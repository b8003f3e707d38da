import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { definePlugin, type Logger } from '@slipway/contracts';
import { configSchema, DEFAULT_NETWORK_SUBNET, type LocalConfig } from './config.js';
import { LocalIaasDriver } from './driver.js';
import { localError } from './errors.js';
import { HostFaults } from './faults.js';
import { Inventory } from './inventory.js';
import { LocalMachine } from './machine.js';
import { namespaceSupport, VmNetworks } from './vm-network.js';

export { LocalIaasDriver } from './driver.js';
export { localMetadataSource } from './metadata.js';
export { killVmTree, pidsUnderRoot, vmLayout, vmMarker, diskDir, VM_MARKER } from './machine.js';
export { readInventory, type InventoryData, type VmRecord, type DiskRecord } from './inventory.js';
export { configSchema, type LocalConfig, type NetworkNamespaces } from './config.js';
export { namespaceSupport, VmNetworks } from './vm-network.js';
export type { FaultFile } from './faults.js';

/** The compiled agent program each VM runs (the image's `slipway-agent`). */
export function defaultAgentMain(): string {
  return createRequire(import.meta.url).resolve('@slipway/agent/main');
}

/** The VMs' namespaces, as `network_namespaces` asks and the machine allows; undefined: loopback addresses only. */
async function vmNetworks(root: string, config: LocalConfig, logger: Logger): Promise<VmNetworks | undefined> {
  const mode = config.network_namespaces ?? 'auto';
  if (mode === 'off') return undefined;
  const support = await namespaceSupport();
  if (!support.available) {
    if (mode === 'on')
      throw localError(
        'InvalidConfig',
        `network_namespaces is on, but ${support.reason}`,
        'Run Slipway as root on Linux with iproute2, or set network_namespaces: auto or off.',
      );
    logger.info('local VMs use loopback addresses: no network namespaces here', { reason: support.reason });
    return undefined;
  }
  return new VmNetworks(root, config.network_subnet ?? DEFAULT_NETWORK_SUBNET, logger);
}

export default definePlugin({
  kind: 'iaas',
  contract: '^1.0.0',
  configSchema,
  capabilities: ['vm.reboot', 'disk.snapshot', 'inventory', 'rehearsal'],
  async create(config: LocalConfig, host) {
    const root = resolve(config.root ?? host.dataDir);
    for (const dir of ['vms', 'disks', 'snapshots']) mkdirSync(join(root, dir), { recursive: true, mode: 0o700 });
    const main = config.agent_main ?? defaultAgentMain();
    if (!existsSync(main)) {
      throw localError(
        'InvalidConfig',
        `the agent program ${main} does not exist`,
        'Build it (npm run build, or npx tsc -b core/agent), or set agent_main.',
      );
    }
    const machine = new LocalMachine(root, {
      node: config.node_path ?? process.execPath,
      main,
      binDirs: (config.bin_dirs ?? []).map((d) => resolve(d)),
      logLevel: config.agent_log_level ?? 'info',
    });
    const logger = host.logger.child({ plugin: '@slipway/iaas-local' });
    const networks = await vmNetworks(root, config, logger);
    const driver = new LocalIaasDriver(
      root,
      new Inventory(join(root, 'state.json')),
      machine,
      new HostFaults(join(root, 'faults.json')),
      Object.freeze({ ...config }),
      logger,
      networks,
    );
    await driver.adopt();
    return driver;
  },
});
