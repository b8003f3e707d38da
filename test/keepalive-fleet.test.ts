import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, freePort, startServer, type ServerProcess } from './support/server.js';

const run = promisify(execFile);
const PASSWORD = 'fleet-admin-pw';
const config = (stemcell: string, published: string[]) => `
iaas: [{ name: sandbox, plugin: "@slipway/iaas-sandbox", config: { boot_delay_ms: 20, latency_ms: { default: 2 } } }]
network: { plugin: "@slipway/network-flat", config: { ranges: { sandbox: { cidr: 10.32.0.0/24 } } } }
agents: { heartbeat_interval_seconds: 0.2, boot_timeout_seconds: 30 }
health: { agent_timeout_seconds: 2, analyze_interval_seconds: 0.2 }
kubernetes:
  default_version: 1.31.4
  stemcell: { name: ubuntu-jammy, version: "${stemcell}" }
  stemcells: [${published.map((v) => `{ name: ubuntu-jammy, version: "${v}" }`).join(', ')}]
plans:
  - name: small
    iaas: sandbox
    master_instances: 1
    worker_instances: 1
    max_worker_instances: 5
    master_vm: { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384, persistent_disk_mb: 10240 }
    worker_vm: { cpu: 2, memory_mb: 8192, ephemeral_disk_mb: 32768, persistent_disk_mb: 20480 }
    kubernetes: { require_api: false }
    update: { canary_watch_time: "20-5000", update_watch_time: "20-5000" }
`;

const home = mkdtempSync(join(tmpdir(), 'slipway-fleet-'));
const state = join(home, 'state');
const configPath = join(home, 'slipway.yaml');
const env = { ...process.env, SLIPWAY_CLI_CONFIG: join(home, 'cli.json'), HOME: home };
let server: ServerProcess;

async function slipway(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

beforeAll(async () => {
  writeFileSync(configPath, config('1.600', []));
  server = await startServer({ home: state, port: await freePort(), password: PASSWORD, config: configPath });
  const login = await slipway(
    'login',
    '-a',
    server.url,
    '-u',
    'admin',
    '-p',
    PASSWORD,
    '--ca-cert',
    join(state, 'ca.pem'),
  );
  if (login.code !== 0) throw new Error(login.stderr);
}, 90_000);
afterAll(async () => {
  await server?.stop();
  rmSync(home, { recursive: true, force: true });
  rmSync(`${home}-keys`, { recursive: true, force: true });
});

describe('patching a CVE across the fleet', () => {
  it('publishes a fixed stemcell in slipway.yaml and upgrades every cluster, canary first, with a result per cluster', async () => {
    for (const name of ['blue', 'green', 'red']) {
      const created = await slipway(
        'create-cluster',
        name,
        '--plan',
        'small',
        '--external-hostname',
        `${name}.example.test`,
        '--wait',
      );
      expect(created.code, created.stderr).toBe(0);
    }
    // Publish the fixed stemcell: the new default, the old one kept in the catalog.
    await server.stop();
    writeFileSync(configPath, config('1.601', ['1.600']));
    server = await startServer({
      home: state,
      port: Number(new URL(server.url).port),
      password: PASSWORD,
      config: configPath,
    });

    const versions = await slipway('versions');
    expect(versions.stdout).toMatch(/Default Stemcell:\s+ubuntu-jammy\/1\.601/);
    const available = JSON.parse((await slipway('upgrades', 'blue', '--json')).stdout);
    expect(available).toMatchObject({
      stemcell: 'ubuntu-jammy/1.600',
      default_target: { stemcell: 'ubuntu-jammy/1.601', kubernetes_version: '1.31.4' },
    });

    const bad = await slipway('upgrade-clusters', '--clusters', 'blue,nope');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('no cluster named "nope"');

    const fleet = await slipway('upgrade-clusters', '--all', '--max-in-flight', '2', '--canaries', '1', '--wait');
    expect(fleet.code, fleet.stdout + fleet.stderr).toBe(0);
    expect(fleet.stdout).toMatch(/blue \(canary\): succeeded/);
    expect(fleet.stdout).toMatch(/Fleet upgrade \d+: done \(3 succeeded\)/);
    expect(fleet.stdout).toMatch(/green\s+in progress|green\s+succeeded/);
    for (const name of ['blue', 'green', 'red']) {
      expect(JSON.parse((await slipway('upgrades', name, '--json')).stdout).stemcell).toBe('ubuntu-jammy/1.601');
    }
    const list = JSON.parse((await slipway('tasks', '--cluster', 'green', '--json')).stdout) as Array<{
      id: number;
      type: string;
      state: string;
      user: string;
    }>;
    const upgrade = list.find((t) => t.type === 'UPGRADE')!;
    expect(upgrade).toMatchObject({ state: 'done' });
    expect(upgrade.user).toMatch(/^fleet-upgrade:\d+$/);
    const task = await slipway('task', String(upgrade.id));
    expect(task.stdout).toMatch(/masters\s+done/);
    expect(task.stdout).toMatch(/worker\/0: drained in/);
    expect(task.stdout).toMatch(/stemcell ubuntu-jammy\/1\.601 is sc-/);
  }, 240_000);
});
