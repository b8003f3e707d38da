import { defineConfig } from 'vitest/config';

// Tests run against TypeScript sources (the `source` export condition), so they need no build;
// the end-to-end tests in test/ start the compiled server and CLI, which `npm test` builds first.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: ['**/test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Password hashes at scrypt N=2^14 instead of OWASP's 2^17 (80 ms a hash here instead of 840): the suite
    // logs in several hundred users. The tests of hashing itself set 17 (core/api/test/login-hardening.test.ts).
    env: { SLIPWAY_PASSWORD_SCRYPT_COST: '14' },
  },
});
