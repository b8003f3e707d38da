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
  },
});
