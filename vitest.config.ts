import { defineConfig } from 'vitest/config';

// Files that must not share the machine with another test file: the local driver's VMs (etcd on fixed ports
// of 127.x addresses, network namespaces on the host), the browser test, and tests that assert timings
// (login's equal-time answers, the health monitor's detection bounds).
const ALONE = [
  'iaas-drivers/local/test/**/*.test.ts',
  'test/dashboard.test.ts',
  'test/keepalive*.test.ts',
  'test/replicas-failover.test.ts',
  'core/api/test/login-hardening.test.ts',
  'core/engine/test/health-*.test.ts',
  'core/engine/test/certificate-renewal.test.ts',
];

// Tests run against TypeScript sources (the `source` export condition), so they need no build;
// the end-to-end tests in test/ start the compiled server and CLI, which `npm test` builds first.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Password hashes at scrypt N=2^14 instead of OWASP's 2^17 (80 ms a hash here instead of 840): the suite
    // logs in several hundred users. The tests of hashing itself set 17 (core/api/test/login-hardening.test.ts).
    env: { SLIPWAY_PASSWORD_SCRYPT_COST: '14' },
    // Most test files wait on processes, sockets and timers more than they compute: two at a time on a 2-core
    // machine nearly halves the wall time. The files in ALONE run afterwards, one at a time.
    projects: [
      {
        extends: true,
        test: {
          name: 'shared',
          include: ['**/test/**/*.test.ts'],
          exclude: ['**/node_modules/**', '**/dist/**', ...ALONE],
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      { extends: true, test: { name: 'alone', include: ALONE, maxWorkers: 1, sequence: { groupOrder: 1 } } },
    ],
  },
});
