import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const engineDist = new URL('../dist/index.js', import.meta.url).href;

/**
 * A plugin installed into an operator's plugin dir with plain `npm install` has no copy of
 * @slipway/contracts of its own (an optional peer): the loader gives it Slipway's. Run in a separate Node
 * process on the compiled engine, since resolution hooks act on Node's own loader, not on the test runner's.
 */
describe('peers of a plugin in plugin_dirs', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'slipway-peers-'));
    const pkg = join(dir, 'node_modules', '@acme', 'slipway-iaas-peerless');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(
      join(pkg, 'package.json'),
      JSON.stringify({
        name: '@acme/slipway-iaas-peerless',
        version: '1.0.0',
        type: 'module',
        exports: { '.': './index.js' },
        slipway: { kind: 'iaas', contract: '^1.0.0' },
        peerDependencies: { '@slipway/contracts': '^1.0.0' },
        peerDependenciesMeta: { '@slipway/contracts': { optional: true } },
      }),
    );
    writeFileSync(
      join(pkg, 'index.js'),
      `import { definePlugin, SlipwayError } from '@slipway/contracts';
export default definePlugin({ kind: 'iaas', contract: '^1.0.0', configSchema: { type: 'object' },
  async create() { throw new SlipwayError('Unsupported', 'peerless plugin: nothing to create'); } });
`,
    );
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("resolves @slipway/contracts to Slipway's own copy, so its errors are the engine's SlipwayError", async () => {
    const script = `
const { PluginLoader } = await import(${JSON.stringify(engineDist)});
const { SlipwayError } = await import('@slipway/contracts');
const loader = new PluginLoader({ searchDirs: [${JSON.stringify(dir)}] });
const plugin = await loader.resolve('iaas', { plugin: '@acme/slipway-iaas-peerless', version: '^1', config: {} }, 'iaas[0]');
try { await plugin.module.create({}, {}); } catch (e) {
  process.stdout.write(JSON.stringify({ sameClass: e instanceof SlipwayError, code: e.code }));
}`;
    // Run from the engine's directory, where @slipway/contracts resolves to the installation's copy.
    const { stdout } = await run('node', ['--input-type=module', '-e', script], {
      cwd: new URL('..', import.meta.url).pathname,
    });
    expect(JSON.parse(stdout)).toEqual({ sameClass: true, code: 'Unsupported' });
  });

  it('without the loader the same plugin cannot find its peer (what an operator saw before)', async () => {
    const entry = pathToFileURL(join(dir, 'node_modules', '@acme', 'slipway-iaas-peerless', 'index.js')).href;
    const failed = await run('node', ['--input-type=module', '-e', `await import(${JSON.stringify(entry)})`], {
      cwd: dir,
    }).then(
      () => '',
      (e: { stderr: string }) => e.stderr,
    );
    expect(failed).toMatch(/Cannot find package '@slipway\/contracts'/);
  });
});
