import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAKE_BASE_IMAGE_ID } from '@slipway/iaas-openstack/fake';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packAll, repoRoot, run } from './support/packages.js';
import { startLoopbackRegistry, type LoopbackRegistry } from './support/registry.js';
import { apiClient, CLI, freePort, startServer, type ServerProcess } from './support/server.js';

/**
 * The vendor's journey, end to end through a real npm registry on loopback (verdaccio): every @slipway
 * package is published to it; a vendor scaffolds a driver, installs, sees the conformance run name the
 * missing verbs, drops in a complete driver, sees it pass (with its faults run), builds and packs; an
 * operator installs the tarball into a plugin dir with plain `npm install`, validates, starts its fake and
 * creates a cluster on it. BUDGET: about 150 s on an idle machine (npm installs dominate). Each step's
 * failure names the step.
 */
const PASSWORD = 'vendor-journey-pw';
let work: string;
let registry: LoopbackRegistry;
let npmEnv: NodeJS.ProcessEnv;

const started = Date.now();
async function step<T>(name: string, action: () => Promise<T>): Promise<T> {
  // Each step's start on stderr, with the seconds since the file began: where the time goes, and where it hung.
  process.stderr.write(`vendor journey +${Math.round((Date.now() - started) / 1000)}s: ${name}\n`);
  try {
    return await action();
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string };
    throw new Error(`step "${name}" failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`.slice(0, 8000), {
      cause: e,
    });
  }
}

const slipway = (args: string[], cwd: string) =>
  run(process.execPath, [CLI, ...args], { cwd, env: npmEnv, maxBuffer: 16 << 20 });
const npm = (args: string[], cwd: string) =>
  run('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline'], { cwd, env: npmEnv, maxBuffer: 64 << 20 });

/** Runs the package's own vitest and returns every assertion's title, status and first failure message. */
async function conformance(pkg: string): Promise<Array<{ title: string; status: string; message: string }>> {
  const report = join(pkg, 'report.json');
  await run(join(pkg, 'node_modules', '.bin', 'vitest'), ['run', '--reporter=json', `--outputFile=${report}`], {
    cwd: pkg,
    env: { ...npmEnv, CI: 'true' },
    maxBuffer: 64 << 20,
  }).catch(() => undefined);
  const results = JSON.parse(readFileSync(report, 'utf8')) as {
    testResults: Array<{ assertionResults: Array<{ fullName: string; status: string; failureMessages: string[] }> }>;
  };
  return results.testResults
    .flatMap((s) => s.assertionResults)
    .map((a) => ({ title: a.fullName, status: a.status, message: a.failureMessages[0] ?? '' }));
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'slipway-vendor-'));
  registry = await step('start the loopback registry', () => startLoopbackRegistry(join(work, 'registry')));
  // Only the @slipway scope goes to the loopback registry; everything else comes from npm's default one.
  npmEnv = { ...process.env, npm_config_userconfig: registry.npmrc, SLIPWAY_HOME: '', SLIPWAY_CONFIG: '' };
  const packed = await step('npm pack every @slipway package', () => packAll(join(work, 'tarballs')));
  await step('publish every @slipway package to the loopback registry', async () => {
    for (const p of packed) await registry.publish(p.tarball);
  });
  const { stdout: seen } = await step('npm view a published package', () =>
    run('npm', ['view', '@slipway/testkit', 'version'], { cwd: work, env: npmEnv }),
  );
  expect(seen.trim()).toBe(packed.find((p) => p.name === '@slipway/testkit')!.version);
}, 240_000);

afterAll(async () => {
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe("a vendor's IaaS driver, from slipway plugin init to a cluster", () => {
  let fake: ChildProcess | undefined;
  let server: ServerProcess | undefined;
  afterAll(async () => {
    await server?.stop();
    fake?.kill('SIGINT');
  });

  it('scaffolds, lists the missing verbs, passes with a complete driver, installs into plugin_dirs, and runs a cluster', async () => {
    const vendor = join(work, 'vendor');
    mkdirSync(vendor);
    await step('slipway plugin init iaas acme', () => slipway(['plugin', 'init', 'iaas', 'acme'], vendor));
    const pkg = join(vendor, 'slipway-iaas-acme');
    await step('npm install in the scaffolded package (from the loopback registry)', () => npm(['install'], pkg));

    const first = await step('conformance of the empty scaffold', () => conformance(pkg));
    const verbs = first.find((a) => a.title.endsWith('implements every required verb'));
    expect(verbs?.status, 'step "conformance of the empty scaffold"').toBe('failed');
    expect(verbs?.message).toContain(
      'lacks: createStemcell, deleteStemcell, createVm, deleteVm, hasVm, setVmMetadata, createDisk, deleteDisk, attachDisk, detachDisk, hasDisk, getDisks\n',
    );

    // A complete driver dropped in: the OpenStack driver's sources and fake, as a vendor's finished work.
    await step('copy in a complete driver', async () => {
      for (const dir of ['src', 'fake']) {
        rmSync(join(pkg, dir), { recursive: true, force: true });
        cpSync(join(repoRoot, 'iaas-drivers', 'openstack', dir), join(pkg, dir), { recursive: true });
      }
      cpSync(
        join(repoRoot, 'iaas-drivers', 'openstack', 'test', 'conformance.test.ts'),
        join(pkg, 'test', 'conformance.test.ts'),
      );
    });
    const second = await step('conformance of the complete driver', () => conformance(pkg));
    const failed = second.filter((a) => a.status === 'failed').map((a) => `${a.title}: ${a.message.split('\n')[0]}`);
    expect(failed, 'step "conformance of the complete driver"').toEqual([]);
    expect(
      second.filter((a) => a.status === 'passed' && a.title.includes('faults')).length,
      'the faults run ran',
    ).toBeGreaterThan(0);

    // `npm pack` builds first (the scaffold's prepack runs `npm run build`); the scaffold's typecheck is
    // proven by core/cli/test/plugin-init.test.ts.
    const { stdout: packed } = await step('npm pack (runs npm run build)', () =>
      npm(['pack', '--json', '--foreground-scripts=false'], pkg),
    );
    expect(existsSync(join(pkg, 'dist', 'src', 'index.js')), 'the build wrote dist/').toBe(true);
    const tarball = join(
      pkg,
      (JSON.parse(packed.slice(packed.indexOf('[')).trim()) as Array<{ filename: string }>)[0]!.filename,
    );

    const operator = join(work, 'operator');
    const plugins = join(operator, 'plugins');
    mkdirSync(plugins, { recursive: true });
    writeFileSync(join(plugins, 'package.json'), '{ "private": true }\n');
    await step('npm install the tarball into plugin_dirs, with no flags', () =>
      run('npm', ['install', tarball, '--no-audit', '--no-fund'], { cwd: plugins, env: npmEnv, maxBuffer: 64 << 20 }),
    );

    const started = await step('slipway fake acme', () =>
      startFakeProcess(['fake', 'acme', '--plugin-dir', plugins], operator),
    );
    fake = started.child;
    const home = join(operator, 'home');
    mkdirSync(home);
    const configPath = join(operator, 'slipway.yaml');
    const vm = {
      cpu: 2,
      memory_mb: 4096,
      ephemeral_disk_mb: 16384,
      persistent_disk_mb: 10240,
      instance_type: 'm1.medium',
    };
    writeFileSync(
      configPath,
      JSON.stringify({
        plugin_dirs: ['plugins'],
        iaas: [
          {
            name: 'acme',
            plugin: 'slipway-iaas-acme',
            version: '^0.1',
            config: started.config,
            stemcell_cloud_properties: { image_id: FAKE_BASE_IMAGE_ID },
          },
        ],
        network: { plugin: '@slipway/network-flat', config: { ranges: { acme: { cidr: '10.77.0.0/24' } } } },
        agents: { heartbeat_interval_seconds: 1, boot_timeout_seconds: 60 },
        plans: [
          {
            name: 'small',
            iaas: 'acme',
            master_instances: 1,
            worker_instances: 1,
            master_vm: vm,
            worker_vm: vm,
            kubernetes: { require_api: false },
          },
        ],
      }),
    );
    const { stdout: validated } = await step('slipway validate', () =>
      slipway(['validate', configPath, '--home', home], operator),
    );
    expect(validated).toContain('is valid.');
    expect(validated).toContain('slipway-iaas-acme');
    const { stdout: listed } = await step('slipway plugins', () =>
      slipway(['plugins', configPath, '--home', home, '--json'], operator),
    );
    expect(JSON.parse(listed)).toContainEqual(
      expect.objectContaining({
        plugin: 'slipway-iaas-acme',
        version: '0.1.0',
        kind: 'iaas',
        maturity: 'experimental',
      }),
    );

    writeFileSync(join(operator, 'credentials.json'), JSON.stringify({ credentials: started.credentials }));
    await step('slipway credentials import on a fresh home', () =>
      slipway(
        ['credentials', 'import', join(operator, 'credentials.json'), '--home', home, '--config', configPath],
        operator,
      ),
    );
    server = await step('slipway up', async () =>
      startServer({ home, port: await freePort(), password: PASSWORD, config: configPath }),
    );

    const api = apiClient(server.url, join(home, 'ca.pem'));
    const token = await api.login('admin', PASSWORD);
    const created = await step('create a cluster on the acme cloud', () =>
      api.call('POST', '/v1/clusters', {
        token,
        body: { name: 'acme-one', plan_name: 'small', parameters: { kubernetes_master_host: 'acme-one.example.test' } },
      }),
    );
    const deadline = Date.now() + 90_000;
    let task: { state: string; error?: unknown };
    do {
      await new Promise((r) => setTimeout(r, 200));
      task = (await api.call('GET', `/v1/tasks/${created.body.task_id}`, { token })).body;
    } while (['queued', 'processing'].includes(task.state) && Date.now() < deadline);
    expect(task.state, `step "create a cluster on the acme cloud": ${JSON.stringify(task.error)}`).toBe('done');
    const cluster = (await api.call('GET', '/v1/clusters/acme-one', { token })).body as { iaas: string };
    expect(cluster.iaas).toBe('acme');
  }, 600_000);
});

describe("a vendor's registry driver, from slipway plugin init to loading in plugin_dirs", () => {
  it('scaffolds, lists the missing registry verbs, packs, installs into plugin_dirs, and validates', async () => {
    const vendor = join(work, 'vendor-registry');
    mkdirSync(vendor);
    await step('slipway plugin init registry quay', () => slipway(['plugin', 'init', 'registry', 'quay'], vendor));
    const pkg = join(vendor, 'slipway-registry-quay');
    await step('npm install in the scaffolded registry package', () => npm(['install'], pkg));
    const results = await step('conformance of the empty registry scaffold', () => conformance(pkg));
    const verbs = results.find((a) => a.title.endsWith('implements every required verb'));
    expect(verbs?.status, 'step "conformance of the empty registry scaffold"').toBe('failed');
    expect(verbs?.message).toContain(
      'lacks: ensureProject, ensureRobot, rotateRobotSecret, deleteRobot, deleteProject',
    );
    expect(results.find((a) => a.title.endsWith('package.json agrees with the module'))?.status).toBe('passed');

    const { stdout: packed } = await step('npm pack the registry package', () =>
      npm(['pack', '--json', '--foreground-scripts=false'], pkg),
    );
    const tarball = join(
      pkg,
      (JSON.parse(packed.slice(packed.indexOf('[')).trim()) as Array<{ filename: string }>)[0]!.filename,
    );
    const operator = join(work, 'operator-registry');
    mkdirSync(join(operator, 'plugins'), { recursive: true });
    writeFileSync(join(operator, 'plugins', 'package.json'), '{ "private": true }\n');
    await step('npm install the registry tarball into plugin_dirs, with no flags', () =>
      run('npm', ['install', tarball, '--no-audit', '--no-fund'], {
        cwd: join(operator, 'plugins'),
        env: npmEnv,
        maxBuffer: 64 << 20,
      }),
    );
    const configPath = join(operator, 'slipway.yaml');
    const vm = { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384, persistent_disk_mb: 10240 };
    writeFileSync(
      configPath,
      JSON.stringify({
        plugin_dirs: ['plugins'],
        iaas: [{ name: 'sandbox', plugin: '@slipway/iaas-sandbox', config: {} }],
        network: { plugin: '@slipway/network-flat', config: { ranges: { sandbox: { cidr: '10.78.0.0/24' } } } },
        registry: {
          plugin: 'slipway-registry-quay',
          version: '^0.1',
          config: { url: 'https://quay.example.test', credentials_ref: '/slipway/registry/quay' },
        },
        plans: [
          {
            name: 'small',
            iaas: 'sandbox',
            master_instances: 1,
            worker_instances: 1,
            master_vm: vm,
            worker_vm: vm,
            kubernetes: { require_api: false },
          },
        ],
      }),
    );
    const { stdout: validated } = await step('slipway validate with the registry plugin', () =>
      slipway(['validate', configPath, '--home', join(operator, 'home')], operator),
    );
    expect(validated).toContain('is valid.');
    expect(validated).toContain('registry: slipway-registry-quay ^0.1');
  }, 300_000);
});

/** `slipway fake` as its own process: resolves with the config and credentials it prints. */
async function startFakeProcess(
  args: string[],
  cwd: string,
): Promise<{ child: ChildProcess; config: Record<string, unknown>; credentials: unknown[] }> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: npmEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (c: Buffer) => {
    err += c;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no JSON from slipway fake in 30 s:\n${out}\n${err}`)), 30_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c;
      try {
        const printed = JSON.parse(out) as { config: Record<string, unknown>; credentials: unknown[] };
        clearTimeout(timer);
        resolve({ child, config: printed.config, credentials: printed.credentials });
      } catch {
        /* not all of it yet */
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`slipway fake exited ${code}:\n${out}\n${err}`));
    });
  });
}
