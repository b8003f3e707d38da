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
  simulationVersion: string;
}

/** `./src/x.ts` -> its compiled file and declarations under dist/, as the published package exports them. */
const built = (source: string) => {
  const base = source.replace(/^\.\//, './dist/').replace(/\.ts$/, '');
  return { types: `${base}.d.ts`, default: `${base}.js` };
};

export const pascal = (name: string) =>
  name
    .split(/[^a-z0-9]+/i)
    .filter(Boolean)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('');

export function packageFiles(s: PackageScaffold): Record<string, string> {
  return {
    // Published as compiled JS with declarations: Slipway imports the package's dist/ at run time. Tests run
    // the TypeScript sources directly (vitest), so they need no build.
    'package.json': `${JSON.stringify(
      {
        name: s.packageName,
        version: '0.1.0',
        description: s.description,
        type: 'module',
        license: 'Apache-2.0',
        exports: Object.fromEntries(
          Object.entries({ '.': './src/index.ts', './fake': './fake/index.ts', ...s.extraExports }).map(([k, v]) => [
            k,
            built(v),
          ]),
        ),
        files: ['dist', 'README.md', 'CHANGELOG.md'],
        slipway: { kind: s.kind, contract: s.contract },
        scripts: {
          build: 'tsc -p tsconfig.build.json',
          prepack: 'npm run build',
          test: 'vitest run',
          typecheck: 'tsc --noEmit',
        },
        // The fake ships in the package (`slipway fake`), so what it runs on is a dependency.
        dependencies: { '@slipway/simulation': `^${s.simulationVersion}` },
        // Slipway's loader gives a plugin its own @slipway/contracts: optional, so `npm install` of the package
        // into a plugin dir neither needs a flag nor installs a second copy.
        peerDependencies: { '@slipway/contracts': `^${s.contractsVersion}` },
        peerDependenciesMeta: { '@slipway/contracts': { optional: true } },
        devDependencies: {
          '@slipway/contracts': `^${s.contractsVersion}`,
          '@slipway/testkit': `^${s.testkitVersion}`,
          '@types/node': '^20.19.0',
          typescript: '~5.9.3',
          vitest: '~4.1.12',
        },
      },
      null,
      2,
    )}\n`,

    'tsconfig.json': `${JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2023'],
          types: ['node'],
          strict: true,
          skipLibCheck: true,
          isolatedModules: true,
          noEmit: true,
        },
        include: ['src', 'fake', 'test'],
      },
      null,
      2,
    )}\n`,

    'tsconfig.build.json': `${JSON.stringify(
      {
        extends: './tsconfig.json',
        compilerOptions: { noEmit: false, rootDir: '.', outDir: 'dist', declaration: true, sourceMap: true },
        include: ['src', 'fake'],
      },
      null,
      2,
    )}\n`,

    '.gitignore': 'node_modules/\ndist/\n*.tgz\n',

    'vitest.config.ts': `import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { include: ['test/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 60_000 },
});
`,
  };
}
