import { join } from 'node:path';
import { definePlugin } from '@slipway/contracts';
import { configSchema, type FlatConfig } from './config.js';
import { FlatNetworkDriver } from './driver.js';
import { renameSync } from 'node:fs';
import { FlatStateFile, type FlatState, type FlatStateStore } from './store.js';
import { SqlFlatState } from './sql-state.js';
import { createApiLoadBalancer, DEFAULT_HEALTH_CHECK_INTERVAL_MS } from './load-balancer.js';

export { FlatNetworkDriver } from './driver.js';

const ALLOCATIONS = 'allocations.json';
export type { FlatConfig } from './config.js';

export default definePlugin({
  kind: 'network',
  contract: '^2.1.0',
  configSchema,
  // `lb` only where load_balancer is configured: the instance says which (contract 2.1 `capabilities`).
  capabilities: ['lb', 'leftovers'],
  async create(config: FlatConfig, host) {
    const lb = config.load_balancer
      ? createApiLoadBalancer(config.load_balancer, host.dataDir, host.logger)
      : undefined;
    const file = new FlatStateFile(join(host.dataDir, ALLOCATIONS));
    let store: FlatStateStore = file;
    let initial: FlatState;
    if (host.database) {
      // Hosts of contract 2.2: the allocations live in the control plane's database, shared by its replicas.
      const sqlState = new SqlFlatState(await host.database('flat'));
      await sqlState.ensureSchema();
      if (file.exists()) {
        // An earlier version's allocations.json, moved in once; a crash before the rename finds rows already there.
        if (await sqlState.isEmpty())
          await sqlState.save(file.read(), { allocations: [], released: {}, cursors: {}, clusters: [] });
        renameSync(join(host.dataDir, ALLOCATIONS), join(host.dataDir, `${ALLOCATIONS}.migrated`));
        host.logger.info("flat network allocations moved into the control plane's database", {
          kept_as: `${ALLOCATIONS}.migrated`,
        });
      }
      store = sqlState;
      initial = await sqlState.load();
    } else {
      initial = file.read();
    }
    const driver = new FlatNetworkDriver(config, store, initial, lb, host.logger);
    if (!lb) return driver;
    // Adopts balancers that kept running while the control plane was down, restarts those that died, and
    // keeps doing so: the VIP must answer whether or not Slipway is up.
    await driver.supervise();
    const interval = Math.max(
      1_000,
      config.load_balancer!.health_check_interval_ms ?? DEFAULT_HEALTH_CHECK_INTERVAL_MS,
    );
    const timer = setInterval(() => void driver.supervise().catch(() => undefined), interval);
    timer.unref();
    const destroy = driver.destroy.bind(driver);
    driver.destroy = async () => {
      clearInterval(timer);
      // By default the balancers outlive Slipway (the data plane must not need the control plane); the next
      // start adopts them. keep_running: false stops them with Slipway (labs, tests).
      if (config.load_balancer!.keep_running === false) await driver.stopBalancers();
      await destroy();
    };
    return driver;
  },
  // The address allocations are the control plane's record of which VM has which address: a restore
  // without them would hand addresses of running VMs to new ones. Written atomically (temp, rename).
  backup: { files: [ALLOCATIONS] },
});
