import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bareImportsOf, manifestOf, packAll, repoRoot, run, type PackedPackage } from './support/packages.js';

/**
 * Every @slipway package as npm would publish it: what `npm pack` puts in each tarball, and the tarballs
 * installed together into an empty directory, where each export must import. The install (about a minute:
 * third-party dependencies come from the npm registry or its cache) is the slow part of this file; the
 * native build of better-sqlite3 is skipped with --ignore-scripts, as it loads its binding only on first use.
 */
/** Benches run only in the repo; the scaffold's templates are text holding a vendor package's imports. */
const SKIPPED = /^dist\/(bench|scaffold)\//;

describe('the published packages', () => {
  let work: string;
  let packed: PackedPackage[];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'slipway-packages-'));
    packed = await packAll(work);
  }, 120_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('each tarball holds its built exports with types, its bins, a README and a CHANGELOG', () => {
    const problems: string[] = [];
    for (const p of packed) {
      const manifest = manifestOf(p.workspace);
      const files = new Set(p.files);
      for (const required of ['README.md', 'CHANGELOG.md', 'package.json'])
        if (!files.has(required)) problems.push(`${p.name}: no ${required}`);
      for (const [sub, target] of Object.entries(manifest.exports)) {
        if (sub === './package.json') continue; // read by `slipway plugin init` for versions, not code
        if (typeof target !== 'object') {
          problems.push(`${p.name} exports ${sub} without conditions (types and default)`);
          continue;
        }
        for (const condition of ['types', 'default'] as const) {
          const path = target[condition]?.replace(/^\.\//, '');
          if (!path?.startsWith('dist/')) problems.push(`${p.name} exports ${sub} ${condition} outside dist/: ${path}`);
          else if (!files.has(path))
            problems.push(`${p.name} exports ${sub} ${condition} ${path}, which the tarball lacks`);
        }
      }
      for (const bin of Object.values(manifest.bin ?? {}))
        if (!files.has(bin.replace(/^\.\//, ''))) problems.push(`${p.name}: bin ${bin} missing`);
      if (p.files.some((f) => /(^|\/)test\//.test(f) || f.endsWith('.test.js')))
        problems.push(`${p.name} ships its tests`);
    }
    expect(problems).toEqual([]);
  });

  it('compiled code imports only what its package.json declares, and no runtime code needs a test runner', () => {
    const problems: string[] = [];
    for (const p of packed) {
      const manifest = manifestOf(p.workspace);
      const declared = new Set([
        manifest.name,
        ...Object.keys(manifest.dependencies ?? {}),
        ...Object.keys(manifest.peerDependencies ?? {}),
      ]);
      for (const file of p.files.filter((f) => f.startsWith('dist/') && f.endsWith('.js') && !SKIPPED.test(f))) {
        // The tarball holds the workspace's own files (npm pack lists them), so they are read in place.
        for (const imported of bareImportsOf(readFileSync(join(repoRoot, p.workspace, file), 'utf8'))) {
          if (!declared.has(imported))
            problems.push(`${p.name} ${file} imports ${imported}, not in its dependencies or peerDependencies`);
          if (imported === 'vitest' && p.name !== '@slipway/testkit')
            problems.push(`${p.name} ${file} imports vitest at run time`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it("the CLI alone (a remote user's install) has no engine, talks to an API, and says what `up` needs", async () => {
    const app = join(work, 'cli-alone');
    await run('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'remote-user', private: true }));
    const tarballs = packed
      .filter((p) => p.name === '@slipway/cli' || p.name === '@slipway/contracts')
      .map((p) => p.tarball);
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...tarballs], {
      cwd: app,
      maxBuffer: 64 << 20,
    });
    expect(existsSync(join(app, 'node_modules', '@slipway', 'engine')), 'the engine is an optional peer').toBe(false);
    expect(existsSync(join(app, 'node_modules', 'better-sqlite3')), 'no SQLite for a remote user').toBe(false);
    const slipway = join(app, 'node_modules', '.bin', 'slipway');
    const env = { ...process.env, SLIPWAY_CLI_CONFIG: join(app, 'cli.json'), SLIPWAY_HOME: '', SLIPWAY_CONFIG: '' };
    const failed = (args: string[]) =>
      run(slipway, args, { cwd: app, env }).then(
        () => 'exited 0',
        (e: { stderr: string }) => e.stderr,
      );
    expect(await failed(['clusters', '--json'])).toContain('you are not logged in');
    expect(await failed(['login', '-a', 'https://127.0.0.1:9', '-u', 'dev', '-p', 'pw', '-k'])).toContain(
      'cannot reach https://127.0.0.1:9',
    );
    expect(await failed(['up', '--home', join(app, 'home')])).toContain('@slipway/api is not installed');
  }, 120_000);

  it('installed together into an empty directory, every export of every package imports', async () => {
    const app = join(work, 'app');
    await run('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'empty-app', private: true, type: 'module' }));
    await run(
      'npm',
      ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', ...packed.map((p) => p.tarball)],
      { cwd: app, maxBuffer: 64 << 20 },
    );
    const specifiers = packed.flatMap((p) =>
      Object.keys(manifestOf(p.workspace).exports)
        .filter((sub) => sub !== './package.json')
        .map((sub) => (sub === '.' ? p.name : `${p.name}/${sub.slice(2)}`)),
    );
    const script = `const failed = [];
for (const s of ${JSON.stringify(specifiers)}) { try { await import(s); } catch (e) { failed.push(s + ': ' + e.message.split('\\n')[0]); } }
process.stdout.write(JSON.stringify(failed)); process.exit(0);`;
    const { stdout } = await run('node', ['--input-type=module', '-e', script], { cwd: app, maxBuffer: 16 << 20 });
    expect(JSON.parse(stdout)).toEqual([]);
    const { stdout: version } = await run(join(app, 'node_modules', '.bin', 'slipway'), ['--version'], { cwd: app });
    expect(version).toMatch(/\d+\.\d+\.\d+/);
  }, 240_000);
});
