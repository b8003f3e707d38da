import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACT_VERSIONS, SlipwayError } from '@slipway/contracts';
import {
  PluginLoader,
  createPluginSet,
  parseConfigText,
  validateConfig,
  silentLogger,
  SystemClock,
  type SlipwayConfig,
} from '../src/index.js';

/**
 * A vendor's network plugin, written as a vendor would ship it: plain ESM JavaScript, its own package.json
 * with the `slipway` manifest and a peer dependency on the contracts, packed with `npm pack` and installed
 * by the operator with `npm install` into a directory of their own. Core is not touched.
 */
const VENDOR_INDEX = `
const configSchema = {
  type: 'object', additionalProperties: false, required: ['prefix'],
  properties: { prefix: { type: 'string', pattern: '^\\\\d+\\\\.\\\\d+\\\\.\\\\d+$' }, first: { type: 'integer', minimum: 1, maximum: 254 } },
};
export default Object.freeze({
  kind: 'network', contract: '^2.0.0', configSchema, capabilities: [],
  async create(config, host) {
    const byOwner = new Map();
    let next = config.first ?? 10;
    return {
      async prepareCluster(input) { return { clusterId: input.clusterId, cidr: config.prefix + '.0/24' }; },
      async allocateAddress(input) {
        if (!byOwner.has(input.owner)) byOwner.set(input.owner, config.prefix + '.' + next++);
        return { owner: input.owner, ip: byOwner.get(input.owner), netmask: '255.255.255.0' };
      },
      async releaseAddress(input) { byOwner.delete(input.owner); },
      async ensureApiEndpoint(input) { return { address: input.masters[0], loadBalanced: false }; },
      async teardownCluster() {},
      async listAllocations() { return [...byOwner].map(([owner, ip]) => ({ owner, ip, netmask: '255.255.255.0' })); },
      async destroy() { host.logger.info('acme network stopped'); },
    };
  },
});
`;

function vendorPackage(root: string, version: string, contract = '^2.0.0'): string {
  const dir = join(root, `src-${version}-${contract.replace(/\W/g, '')}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify(
      {
        name: '@acme/slipway-network-tiny',
        version,
        type: 'module',
        exports: { '.': './index.js' },
        peerDependencies: { '@slipway/contracts': '^1.0.0' },
        slipway: { kind: 'network', contract },
      },
      null,
      2,
    ),
  );
  writeFileSync(join(dir, 'index.js'), VENDOR_INDEX.replace("contract: '^2.0.0'", `contract: '${contract}'`));
  const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', root], { cwd: dir, encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop()!;
  return join(root, tarball);
}

/** What an operator runs: a directory of their own, `npm install` of the vendor's tarball into it. */
function operatorInstall(opsDir: string, tarball: string): void {
  mkdirSync(opsDir, { recursive: true });
  writeFileSync(join(opsDir, 'package.json'), JSON.stringify({ name: 'ops-plugins', private: true }));
  execFileSync(
    'npm',
    ['install', '--no-audit', '--no-fund', '--offline', '--legacy-peer-deps', '--ignore-scripts', tarball],
    { cwd: opsDir, stdio: 'pipe' },
  );
}

function config(
  opsDir: string,
  network: Record<string, unknown>,
  sandboxConfig: Record<string, unknown> = {},
): SlipwayConfig {
  const { config, errors } = validateConfig(
    parseConfigText(
      `
plugin_dirs: [${JSON.stringify(opsDir)}]
iaas: [{ name: sandbox, plugin: "@slipway/iaas-sandbox", version: "^1", config: ${JSON.stringify(sandboxConfig)} }]
network: ${JSON.stringify(network)}
plans:
  - { name: small, iaas: sandbox, master_instances: 1, worker_instances: 1,
      master_vm: { cpu: 1, memory_mb: 1024, ephemeral_disk_mb: 2048 }, worker_vm: { cpu: 1, memory_mb: 1024, ephemeral_disk_mb: 2048 }, kubernetes: { require_api: false } }
`,
      'test.yaml',
    ),
  );
  if (!config) throw new Error(errors.join('\n'));
  return config;
}

async function refusal(promise: Promise<unknown>): Promise<SlipwayError> {
  try {
    await promise;
  } catch (e) {
    if (SlipwayError.is(e)) return e;
    throw e;
  }
  throw new Error('expected the loader to refuse');
}

let root: string;
let opsDir: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'slipway-vendor-'));
  opsDir = join(root, 'ops');
  operatorInstall(opsDir, vendorPackage(root, '1.2.0'));
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('plugin loader', () => {
  it('loads a third-party plugin installed with npm into an operator directory, with no change to core', async () => {
    const cfg = config(opsDir, {
      plugin: '@acme/slipway-network-tiny',
      version: '^1.2',
      config: { prefix: '192.0.2' },
    });
    const resolved = await new PluginLoader({ searchDirs: cfg.plugin_dirs }).resolveAll(cfg);
    const network = resolved.find((p) => p.kind === 'network')!;
    expect(network).toMatchObject({ name: '@acme/slipway-network-tiny', version: '1.2.0', configPath: 'network' });
    expect(Object.isFrozen(network.config)).toBe(true);
    const dataDir = join(root, 'data');
    const plugins = await createPluginSet(resolved, { dataDir, logger: silentLogger, clock: new SystemClock() });
    try {
      const a = await plugins.network.allocateAddress({ clusterId: 'c1', owner: 'i1', iaas: 'sandbox' });
      const again = await plugins.network.allocateAddress({ clusterId: 'c1', owner: 'i1', iaas: 'sandbox' });
      expect(a.ip).toBe('192.0.2.10');
      expect(again.ip).toBe(a.ip);
      expect(plugins.loaded.map((p) => `${p.kind}:${p.name}@${p.version}`)).toContain(
        'network:@acme/slipway-network-tiny@1.2.0',
      );
    } finally {
      await plugins.destroy();
    }
  });

  it('refuses a package that is not installed, saying where it looked and what to install', async () => {
    const cfg = config(opsDir, { plugin: '@acme/slipway-network-missing', version: '^3' });
    const err = await refusal(new PluginLoader({ searchDirs: cfg.plugin_dirs }).resolveAll(cfg));
    expect(err.code).toBe('PluginRefused');
    expect(err.message).toContain('network.plugin: @acme/slipway-network-missing is not installed');
    expect(err.message).toContain(opsDir);
    expect(err.message).toContain('npm install @acme/slipway-network-missing@"^3"');
  });

  it('refuses an installed version outside the configured range', async () => {
    const cfg = config(opsDir, { plugin: '@acme/slipway-network-tiny', version: '^2', config: { prefix: '192.0.2' } });
    const err = await refusal(new PluginLoader({ searchDirs: cfg.plugin_dirs }).resolveAll(cfg));
    expect(err.code).toBe('PluginRefused');
    expect(err.message).toContain(
      'network.version: @acme/slipway-network-tiny 1.2.0 is installed but slipway.yaml wants ^2',
    );
  });

  it('refuses a network plugin built for the old contract before importing its code', async () => {
    const otherOps = join(root, 'ops-v1');
    operatorInstall(otherOps, vendorPackage(root, '0.9.0', '^1.0.0'));
    const cfg = config(otherOps, {
      plugin: '@acme/slipway-network-tiny',
      version: '^0.9',
      config: { prefix: '192.0.2' },
    });
    const err = await refusal(new PluginLoader({ searchDirs: cfg.plugin_dirs }).resolveAll(cfg));
    expect(err.message).toContain(
      `@acme/slipway-network-tiny 0.9.0 implements network contract ^1.0.0; this Slipway provides network contract ${CONTRACT_VERSIONS.network}`,
    );
    expect(err.message).toContain('built for contract ^2');
  }, 60_000);

  it('refuses a plugin of the wrong kind for its slot', async () => {
    const { config: cfg, errors } = validateConfig(
      parseConfigText(
        `
plugin_dirs: [${JSON.stringify(opsDir)}]
iaas: [{ name: sandbox, plugin: "@acme/slipway-network-tiny" }]
plans: [{ name: p, iaas: sandbox, master_instances: 1, worker_instances: 1, master_vm: { cpu: 1, memory_mb: 1024, ephemeral_disk_mb: 2048 }, worker_vm: { cpu: 1, memory_mb: 1024, ephemeral_disk_mb: 2048 }, kubernetes: { require_api: false } }]
`,
        't.yaml',
      ),
    );
    expect(errors).toEqual([]);
    const err = await refusal(new PluginLoader({ searchDirs: cfg!.plugin_dirs }).resolveAll(cfg!));
    expect(err.message).toContain(
      'iaas[0].plugin: @acme/slipway-network-tiny is a network plugin, but iaas[0] needs an iaas plugin',
    );
  });

  it('reports every config error of every plugin at once, with the plugin and the JSON path', async () => {
    const cfg = config(
      opsDir,
      { plugin: '@acme/slipway-network-tiny', config: { prefix: 12, first: 999, colour: 'blue' } },
      { boot_delay_ms: -1 },
    );
    const err = await refusal(new PluginLoader({ searchDirs: cfg.plugin_dirs }).resolveAll(cfg));
    const lines = err.details?.errors as string[];
    expect(lines).toEqual(
      expect.arrayContaining([
        'iaas[0].config.boot_delay_ms: must be >= 0 (plugin @slipway/iaas-sandbox)',
        'network.config.prefix: must be string (plugin @acme/slipway-network-tiny)',
        'network.config.first: must be <= 254 (plugin @acme/slipway-network-tiny)',
        'network.config.colour: is not a known field (check its spelling) (plugin @acme/slipway-network-tiny)',
      ]),
    );
  });
});
