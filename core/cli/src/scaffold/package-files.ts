/**
 * What every scaffolded plugin package shares, whatever its kind: its package.json, tsconfig and vitest
 * config. The kind's own templates (iaas-templates.ts, registry-templates.ts) add the driver, fake and tests.
 */
export interface PackageScaffold {
  packageName: string;
  kind: 'iaas' | 'registry';
  description: string;
  /** Export subpaths beyond `.` and `./fake` (an IaaS driver's `./metadata`). */
  extraExports?: Record<string, string>;
  contract: string;
  contractsVersion: string;
  testkitVersion: string;
}

export const pascal = (name: string) => name.split(/[^a-z0-9]+/i).filter(Boolean).map((p) => p[0]!.toUpperCase() + p.slice(1)).join('');

export function packageFiles(s: PackageScaffold): Record<string, string> {
  return {
    'package.json': `${JSON.stringify({
      name: s.packageName,
      version: '0.1.0',
      description: s.description,
      type: 'module',
      license: 'Apache-2.0',
      exports: { '.': './src/index.ts', './fake': './fake/index.ts', ...s.extraExports },
      files: ['src', 'fake', 'README.md', 'CHANGELOG.md'],
      slipway: { kind: s.kind, contract: s.contract },
      scripts: { test: 'vitest run', typecheck: 'tsc --noEmit' },
      peerDependencies: { '@slipway/contracts': `^${s.contractsVersion}` },
      devDependencies: { '@slipway/testkit': `^${s.testkitVersion}`, vitest: '>=3', typescript: '>=5' },
    }, null, 2)}\n`,

    'tsconfig.json': `${JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2023'], types: ['node'],
        strict: true, skipLibCheck: true, isolatedModules: true, allowImportingTsExtensions: false, noEmit: true,
      },
      include: ['src', 'fake', 'test'],
    }, null, 2)}\n`,

    'vitest.config.ts': `import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { include: ['test/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 60_000 },
});
`,
  };
}
