import { describe, expect, it } from 'vitest';
import {
  nextBatch,
  parseConfigText,
  resolveStrategy,
  validateConfig,
  VersionCatalog,
  type SlipwayConfig,
} from '../src/index.js';

function config(extra = ''): SlipwayConfig {
  const { config, errors } = validateConfig(
    parseConfigText(
      `
iaas: [{ name: sandbox, plugin: "@slipway/iaas-sandbox" }]
kubernetes:
  default_version: 1.31.4
  versions: [1.29.6, 1.30.2, 1.30.8, 1.31.4]
  stemcell: { name: ubuntu-jammy, version: "1.601" }
  stemcells: [{ name: ubuntu-jammy, version: "1.600" }, { name: ubuntu-noble, version: "1.10" }]
plans:
  - name: old
    iaas: sandbox
    master_instances: 1
    worker_instances: 10
    kubernetes_version: 1.29.6
    master_vm: { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384 }
    worker_vm: { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384 }
    kubernetes: { require_api: false }
${extra}
`,
      'slipway.yaml',
    ),
  );
  if (!config) throw new Error(errors.join('\n'));
  return config;
}

describe('version catalog', () => {
  const catalog = new VersionCatalog(config());

  it('refuses a skipped minor version and says which path is allowed', () => {
    expect(() => catalog.checkUpgrade('1.29.6', '1.31.4')).toThrow(
      '1.29.6 → 1.31.4 skips 1.30; upgrade to 1.30.x first (available: 1.30.2, 1.30.8)',
    );
  });

  it('refuses a downgrade and a version not in the catalog', () => {
    expect(() => catalog.checkUpgrade('1.31.4', '1.30.8')).toThrow(/1\.31\.4 → 1\.30\.8 is a downgrade/);
    expect(() => catalog.checkUpgrade('1.30.8', '1.31.9')).toThrow(
      'Kubernetes 1.31.9 is not in the version catalog; available: 1.29.6, 1.30.2, 1.30.8, 1.31.4',
    );
  });

  it('allows a patch and the next minor, and lists them as available', () => {
    expect(() => catalog.checkUpgrade('1.30.2', '1.30.8')).not.toThrow();
    expect(() => catalog.checkUpgrade('1.30.2', '1.31.4')).not.toThrow();
    expect(catalog.upgradesFrom('1.29.6')).toEqual(['1.30.2', '1.30.8']);
  });

  it('walks toward a far version one minor at a time, to the newest patch of the next minor', () => {
    expect(catalog.stepToward('1.29.6', '1.31.4')).toBe('1.30.8');
    expect(catalog.stepToward('1.30.8', '1.31.4')).toBe('1.31.4');
    expect(catalog.stepToward('1.31.4', '1.31.4')).toBe('1.31.4');
  });

  it("keeps the default version and plans' versions in the catalog, and the default stemcell with the published ones", () => {
    const c = config();
    expect(new VersionCatalog({ ...c, kubernetes: { ...c.kubernetes, versions: ['1.30.8'] } }).versions).toEqual([
      '1.29.6',
      '1.30.8',
      '1.31.4',
    ]);
    expect(catalog.planVersion(config().plans[0]!)).toBe('1.29.6');
    expect(catalog.stemcells.map((s) => `${s.name}/${s.version}`)).toEqual([
      'ubuntu-jammy/1.600',
      'ubuntu-jammy/1.601',
      'ubuntu-noble/1.10',
    ]);
  });

  it('refuses an older stemcell of the same name and one nobody published', () => {
    expect(() =>
      catalog.checkStemcell({ name: 'ubuntu-jammy', version: '1.601' }, { name: 'ubuntu-jammy', version: '1.600' }),
    ).toThrow(/is a downgrade/);
    expect(() =>
      catalog.checkStemcell({ name: 'ubuntu-jammy', version: '1.600' }, { name: 'ubuntu-jammy', version: '1.700' }),
    ).toThrow(
      'stemcell ubuntu-jammy/1.700 is not published; available: ubuntu-jammy/1.600, ubuntu-jammy/1.601, ubuntu-noble/1.10',
    );
    expect(() =>
      catalog.checkStemcell({ name: 'ubuntu-jammy', version: '1.601' }, { name: 'ubuntu-noble', version: '1.10' }),
    ).not.toThrow();
  });
});

describe('update strategy', () => {
  it('reads counts, percentages and BOSH watch times from a plan, with request overrides', () => {
    const s = resolveStrategy(
      {
        canaries: '10%',
        max_in_flight: '25%',
        canary_watch_time: '500-2000',
        update_watch_time: 3000,
        drain_timeout_seconds: 0,
      },
      {},
      10,
    );
    expect(s).toMatchObject({
      canaries: 1,
      maxInFlight: 3,
      canaryWatch: { lowMs: 500, highMs: 2000 },
      updateWatch: { lowMs: 3000, highMs: 3000 },
      drainTimeoutMs: Infinity,
    });
    expect(resolveStrategy({}, { max_in_flight: 4, force: true }, 10)).toMatchObject({
      maxInFlight: 4,
      canaries: 1,
      force: true,
      drainTimeoutMs: 600_000,
    });
    expect(() => resolveStrategy({ canary_watch_time: '30000-1000' }, {}, 3)).toThrow(/ends before it starts/);
  });

  it('validates the update block in slipway.yaml', () => {
    const { errors } = validateConfig(
      parseConfigText(
        `
iaas: [{ name: sandbox, plugin: "@slipway/iaas-sandbox" }]
plans:
  - name: p
    iaas: sandbox
    master_instances: 1
    worker_instances: 1
    master_vm: { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384 }
    worker_vm: { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384 }
    kubernetes: { require_api: false }
    update: { max_in_flight: "lots", canary_watch_time: "soon", drain: 3 }
health: { agent_timeout_seconds: -1, resurrector: { percent_threshold: 2 } }
`,
        'x.yaml',
      ),
    );
    expect(errors.join('\n')).toMatch(/plans\[0\]\.update\.max_in_flight/);
    expect(errors.join('\n')).toMatch(/plans\[0\]\.update\.canary_watch_time/);
    expect(errors.join('\n')).toMatch(/plans\[0\]\.update\.drain: is not a known field/);
    expect(errors.join('\n')).toMatch(/health\.agent_timeout_seconds: must be > 0/);
    expect(errors.join('\n')).toMatch(/health\.resurrector\.percent_threshold: must be <= 1/);
  });

  it('plans batches that never take more than max_in_flight down, counting those already down', () => {
    const m = (id: string, pending: boolean, healthy: boolean) => ({ id, pending, healthy });
    expect(nextBatch([m('a', true, true), m('b', true, true), m('c', true, true)], 2)).toEqual(['a', 'b']);
    // One is down for another reason: only one healthy one may go now.
    expect(nextBatch([m('a', true, true), m('b', true, true), m('x', false, false)], 2)).toEqual(['a']);
    // A pending one that is already down goes first: it costs nothing.
    expect(nextBatch([m('a', true, true), m('b', true, false)], 1)).toEqual(['b']);
    // Everything down already: wait.
    expect(nextBatch([m('a', true, true), m('x', false, false)], 1)).toEqual([]);
  });
});
