import { join } from 'node:path';
import { definePlugin } from '@slipway/contracts';
import { configSchema, type FlatConfig } from './config.js';
import { FlatNetworkDriver } from './driver.js';
import { FlatStateFile } from './store.js';
import { createApiLoadBalancer, DEFAULT_HEALTH_CHECK_INTERVAL_MS } from './load-balancer.js';

export { FlatNetworkDriver } from './driver.js';
export type { FlatConfig } from './config.js';

export default definePlugin({
  kind: 'network',
  contract: '^2.1.0',
  configSchema,
  // `lb` only where load_balancer is configured: the instance says which (contract 2.1 `capabilities`).
  capabilities: ['lb', 'leftovers'],
  async create(config: FlatConfig, host) {
    const lb = config.load_balancer ? createApiLoadBalancer(config.load_balancer, host.dataDir, host.logger) : undefined;
    const driver = new FlatNetworkDriver(config, new FlatStateFile(join(host.dataDir, 'allocations.json')), lb, host.logger);
    if (!lb) return driver;
    // Adopts balancers that kept running while the control plane was down, restarts those that died, and
    // keeps doing so: the VIP must answer whether or not Slipway is up.
    await driver.supervise();
    const interval = Math.max(1_000, config.load_balancer!.health_check_interval_ms ?? DEFAULT_HEALTH_CHECK_INTERVAL_MS);
    const timer = setInterval(() => void driver.supervise().catch(() => undefined), interval);
    timer.unref();
    const destroy = driver.destroy.bind(driver);
    driver.destroy = async () => {
      clearInterval(timer);
      await destroy();
    };
    return driver;
  },
});
