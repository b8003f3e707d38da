import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/index.js';

const run = promisify(execFile);
const repoModules = fileURLToPath(new URL('../../../node_modules', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'slipway-scaffold-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function io() {
  let stdout = '';
  let stderr = '';
  return {
    io: {
      stdout: {
        write: (s: string) => {
          stdout += s;
          return true;
        },
      },
      stderr: {
        write: (s: string) => {
          stderr += s;
          return true;
        },
      },
      env: {},
      cwd: dir,
      stdin: undefined,
    },
    out: () => stdout,
    err: () => stderr,
  };
}

describe('slipway plugin init iaas NAME', () => {
  it('scaffolds a package whose conformance run names exactly the verbs still missing, and which type-checks', async () => {
    const t = io();
    const code = await runCli(['plugin', 'init', 'iaas', 'foo', '--scope', '@acme'], t.io as never);
    expect(code, t.err()).toBe(0);
    const pkg = join(dir, 'slipway-iaas-foo');
    const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
    expect(manifest).toMatchObject({ name: '@acme/slipway-iaas-foo', slipway: { kind: 'iaas', contract: '^1.0.0' } });
    // As if `npm install` had run: the Slipway packages come from this checkout.
    symlinkSync(repoModules, join(pkg, 'node_modules'));

    await run(join(repoModules, '.bin', 'tsc'), ['-p', '.'], { cwd: pkg });
    // `npm run build` compiles what the package exports: the published package is dist/, with declarations.
    await run(join(repoModules, '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], { cwd: pkg });
    for (const target of Object.values(manifest.exports as Record<string, { types: string; default: string }>)) {
      expect(existsSync(join(pkg, target.default)), target.default).toBe(true);
      expect(existsSync(join(pkg, target.types)), target.types).toBe(true);
    }
    expect(manifest.peerDependenciesMeta).toEqual({ '@slipway/contracts': { optional: true } });
    expect(manifest.dependencies).toHaveProperty('@slipway/simulation');

    const report = join(dir, 'report.json');
    await run(join(repoModules, '.bin', 'vitest'), ['run', '--reporter=json', `--outputFile=${report}`], {
      cwd: pkg,
      env: { ...process.env, CI: 'true' },
    }).catch(() => undefined);
    const results = JSON.parse(readFileSync(report, 'utf8')) as {
      testResults: Array<{ assertionResults: Array<{ title: string; status: string; failureMessages: string[] }> }>;
    };
    const verbs = results.testResults
      .flatMap((s) => s.assertionResults)
      .find((a) => a.title === 'implements every required verb')!;
    expect(verbs.status).toBe('failed');
    expect(verbs.failureMessages[0]).toContain(
      'lacks: createStemcell, deleteStemcell, createVm, deleteVm, hasVm, setVmMetadata, createDisk, deleteDisk, attachDisk, detachDisk, hasDisk, getDisks',
    );
    const manifestCheck = results.testResults
      .flatMap((s) => s.assertionResults)
      .find((a) => a.title === 'package.json agrees with the module')!;
    expect(manifestCheck.status).toBe('passed');
  }, 120_000);

  it('scaffolds a registry driver whose conformance run names the registry verbs still missing, and which type-checks', async () => {
    const t = io();
    const code = await runCli(['plugin', 'init', 'registry', 'quay', '--scope', '@acme'], t.io as never);
    expect(code, t.err()).toBe(0);
    const pkg = join(dir, 'slipway-registry-quay');
    const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
    expect(manifest).toMatchObject({
      name: '@acme/slipway-registry-quay',
      slipway: { kind: 'registry', contract: '^2.0.0' },
    });
    symlinkSync(repoModules, join(pkg, 'node_modules'));

    await run(join(repoModules, '.bin', 'tsc'), ['-p', '.'], { cwd: pkg });

    const report = join(dir, 'registry-report.json');
    await run(join(repoModules, '.bin', 'vitest'), ['run', '--reporter=json', `--outputFile=${report}`], {
      cwd: pkg,
      env: { ...process.env, CI: 'true' },
    }).catch(() => undefined);
    const results = JSON.parse(readFileSync(report, 'utf8')) as {
      testResults: Array<{ assertionResults: Array<{ title: string; status: string; failureMessages: string[] }> }>;
    };
    const all = results.testResults.flatMap((s) => s.assertionResults);
    const verbs = all.find((a) => a.title === 'implements every required verb')!;
    expect(verbs.status).toBe('failed');
    expect(verbs.failureMessages[0]).toContain(
      'lacks: ensureProject, ensureRobot, rotateRobotSecret, deleteRobot, deleteProject',
    );
    expect(all.find((a) => a.title === 'package.json agrees with the module')!.status).toBe('passed');
  }, 120_000);

  it('refuses an unknown kind or a bad name with exit code 2', async () => {
    const a = io();
    expect(await runCli(['plugin', 'init', 'storage', 'foo'], a.io as never)).toBe(2);
    expect(a.err()).toContain('slipway plugin init iaas NAME');
    const b = io();
    expect(await runCli(['plugin', 'init', 'iaas', 'Foo_Bar'], b.io as never)).toBe(2);
    expect(b.err()).toContain('NAME "Foo_Bar"');
  });
});
