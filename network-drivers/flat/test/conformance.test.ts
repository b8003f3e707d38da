import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe } from 'vitest';
import { runNetworkConformance } from '@slipway/testkit';
import plugin from '../src/index.js';

const packageJson = createRequire(import.meta.url)('../package.json');
const HAPROXY = '/usr/sbin/haproxy';

// A flat range is a local resource: no fake, the config is enough. The pool of exactly `capacity` addresses:
// a /28's hosts .1-.14, less the gateway (.1) and a reserved tail.
const ranges = (iaas: string, capacity: number) => ({
  [iaas]: { cidr: '10.99.0.0/28', reserved: [`10.99.0.${2 + capacity}-10.99.0.14`] },
});

describe('without a load balancer', () => {
  runNetworkConformance({ plugin, packageJson, config: ({ iaas, capacity }) => ({ ranges: ranges(iaas, capacity) }) });
});

// With a managed HAProxy per cluster: VIPs on loopback addresses (127/8 routes to lo, so no root is needed).
describe.skipIf(!existsSync(HAPROXY))(
  `with HAProxy${existsSync(HAPROXY) ? '' : ` (skipped: ${HAPROXY} is not installed)`}`,
  () => {
    runNetworkConformance({
      plugin,
      packageJson,
      config: ({ iaas, capacity }) => ({
        ranges: ranges(iaas, capacity),
        load_balancer: {
          mode: 'haproxy',
          vip_range: '127.77.1.10-127.77.1.40',
          haproxy_binary: HAPROXY,
          health_check_interval_ms: 500,
        },
      }),
    });
  },
);

describe('with an external load balancer', () => {
  runNetworkConformance({
    plugin,
    packageJson,
    config: ({ iaas, capacity }) => ({
      ranges: ranges(iaas, capacity),
      load_balancer: { mode: 'external', vip_range: '192.0.2.0/28' },
    }),
  });
});
