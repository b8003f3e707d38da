import { randomBytes } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, cliRunner, freePort, startServer, type ServerProcess } from './support/server.js';

const PASSWORD = 'backup-admin-pw';
// The sandbox cloud's inventory lives outside the home, as a real cloud does: removing the home does
// not remove the VMs. Short health bounds, so a VM taken for dead would be resurrected within the test.
const root = mkdtempSync(join(tmpdir(), 'slipway-backup-'));
const home = join(root, 'home');
const keys = `${home}-keys`;
const cloud = join(root, 'cloud', 'sandbox.json');
const backupDir = join(root, 'backups', 'first');
const CONFIG = `
iaas:
  - name: sandbox
    plugin: "@slipway/iaas-sandbox"
    config: { state_file: ${JSON.stringify(cloud)}, boot_delay_ms: 20 }
network: { plugin: "@slipway/network-flat", config: { ranges: { sandbox: { cidr: 10.32.0.0/24 } } } }
agents: { heartbeat_interval_seconds: 0.3, boot_timeout_seconds: 30 }
health: { agent_timeout_seconds: 2, analyze_interval_seconds: 0.3, cloud_check_interval_seconds: 0.5 }
plans:
  - name: small
    iaas: sandbox
    master_instances: 1
    worker_instances: 1
    max_worker_instances: 3
    master_vm: { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384, persistent_disk_mb: 10240 }
    worker_vm: { cpu: 2, memory_mb: 8192, ephemeral_disk_mb: 32768, persistent_disk_mb: 20480 }
    kubernetes: { require_api: false }
`;
const CLUSTERS = ['alpha', 'beta'];
const env = {
  ...process.env,
  HOME: root,
  SLIPWAY_CLI_CONFIG: join(root, 'cli.json'),
  SLIPWAY_HOME: '',
  SLIPWAY_CONFIG: '',
  SLIPWAY_KEYS: '',
};
let server: ServerProcess | undefined;

interface Instance {
  name: string;
  vm_cid: string;
  state: string;
}
interface Task {
  id: number;
  type: string;
  state: string;
}

/** The compiled `slipway` command with this test's environment (its own home, CLI config and HOME). */
const slipway = cliRunner(env);

async function api() {
  const client = apiClient(server!.url, join(home, 'ca.pem'));
  return { ...client, token: await client.login('admin', PASSWORD) };
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The cloud's own list of VMs (the sandbox's inventory API), not the store's. */
async function cloudVmIds(): Promise<string[]> {
  const a = await api();
  return (
    await a.call<{ vms: Array<{ vmId: string }> }>('GET', '/v1/sandbox/sandbox/inventory', { token: a.token })
  ).body.vms
    .map((v) => v.vmId)
    .sort();
}

async function allRunning(): Promise<Record<string, Instance[]> | undefined> {
  const a = await api();
  const out: Record<string, Instance[]> = {};
  for (const name of CLUSTERS) {
    const res = await a.call<Instance[]>('GET', `/v1/clusters/${name}/instances`, { token: a.token });
    if (res.status !== 200 || !res.body.length || res.body.some((i) => i.state !== 'running')) return undefined;
    out[name] = res.body;
  }
  return out;
}

/** Every file under a directory with its size and mode, to tell whether a refused restore touched it. */
function snapshot(dir: string): string[] {
  if (!existsSync(dir)) return ['(absent)'];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const p = join(e.parentPath, e.name);
      const s = statSync(p);
      return `${p} ${s.size} ${s.mtimeMs} ${(s.mode & 0o777).toString(8)}`;
    })
    .sort();
}

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

beforeAll(async () => {
  mkdirSync(join(root, 'cloud'), { recursive: true });
  mkdirSync(home, { mode: 0o755 });
  writeFileSync(join(home, 'slipway.yaml'), CONFIG);
  // A permissive umask, as on a shared host: the databases must still be the owner's alone.
  server = await startServer({ home, port: await freePort(), password: PASSWORD, umask: '000' });
  const login = await slipway(
    'login',
    '-a',
    server.url,
    '-u',
    'admin',
    '-p',
    PASSWORD,
    '--ca-cert',
    join(home, 'ca.pem'),
  );
  if (login.code !== 0) throw new Error(login.stderr);
  const creates = await Promise.all(
    CLUSTERS.map((name) =>
      slipway('create-cluster', name, '--plan', 'small', '--external-hostname', `${name}.example.test`, '--wait'),
    ),
  );
  for (const c of creates) if (c.code !== 0) throw new Error(c.stderr);
}, 180_000);

afterAll(async () => {
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('backup and restore of a control plane', () => {
  it('keeps every database private to its owner, whatever the umask', () => {
    // The credential store and the network's allocations live in slipway.db too (one database, one backup).
    const dbs = ['slipway.db'];
    expect(existsSync(join(home, 'plugins/credentials/default/credhub.db'))).toBe(false);
    for (const db of dbs)
      for (const suffix of ['', '-wal', '-shm']) {
        const path = join(home, db + suffix);
        if (existsSync(path)) expect(`${db + suffix} ${mode(path)}`).toBe(`${db + suffix} 600`);
      }
    expect(existsSync(join(home, 'slipway.db-wal')), 'the store runs in WAL mode').toBe(true);
    // The default key is created outside the home, so a copy of the home never holds it.
    expect(existsSync(join(keys, 'credhub-encryption.key'))).toBe(true);
    expect(mode(join(keys, 'credhub-encryption.key'))).toBe('600');
    expect(
      readdirSync(home, { recursive: true })
        .map(String)
        .filter((f) => f.endsWith('.key')),
    ).toEqual([]);
  });

  it('backs up, loses the home, restores, and finds every cluster healthy on the same VMs with nothing resurrected', async () => {
    await until('every instance running', allRunning);
    const vmsBefore = await cloudVmIds();
    expect(vmsBefore).toHaveLength(4);

    // Online: the control plane keeps running (and its agents keep writing heartbeats) during the backup.
    const started = Date.now();
    const backup = await slipway('backup', '--home', home, '--to', backupDir, '--json');
    const backupMs = Date.now() - started;
    expect(backup.code, backup.stderr).toBe(0);
    const manifest = JSON.parse(backup.stdout);
    // One database holds the store, the credentials and the network's allocations.
    expect(manifest.files.map((f: { path: string }) => f.path).sort()).toEqual(['slipway.db', 'slipway.yaml']);
    expect(manifest.store.migration).toMatch(/^\d{4}_/);
    const keyId = manifest.plugins.find((p: { kind: string }) => p.kind === 'credentials').key_ids;
    expect(keyId).toHaveLength(1);
    // No key in the backup, no WAL file copied beside a database, everything private.
    const files = readdirSync(backupDir, { recursive: true }).map(String);
    expect(files.filter((f) => f.endsWith('.key') || f.endsWith('-wal') || f.endsWith('-shm'))).toEqual([]);
    for (const f of manifest.files) expect(mode(join(backupDir, f.path))).toBe('600');
    expect(readFileSync(join(backupDir, 'SHA256SUMS'), 'utf8')).toContain('  manifest.json');
    const size = manifest.files.reduce((n: number, f: { bytes: number }) => n + f.bytes, 0);
    console.log(
      `backup of ${CLUSTERS.length} clusters (4 VMs): ${backupMs} ms wall (CLI included), ${manifest.duration_ms} ms copying, ${(size / 1024).toFixed(0)} KiB`,
    );

    // After the backup the cloud moves on: alpha gains a worker the backup does not know.
    const resized = await slipway('resize', 'alpha', '--num-nodes', '2', '--wait');
    expect(resized.code, resized.stderr).toBe(0);
    const unknownVm = (await cloudVmIds()).find((id) => !vmsBefore.includes(id))!;
    expect(unknownVm).toBeDefined();

    await server!.stop();
    server = undefined;
    rmSync(home, { recursive: true, force: true });
    expect(existsSync(join(keys, 'credhub-encryption.key')), 'the key survives the home').toBe(true);

    const restoreStarted = Date.now();
    const restored = await slipway('restore', '--from', backupDir, '--home', home);
    console.log(`restore: ${Date.now() - restoreStarted} ms wall (CLI included)`);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain('slipway doctor');
    expect(mode(join(home, 'slipway.db'))).toBe('600');

    server = await startServer({ home, port: await freePort(), password: 'not-used-the-admin-is-restored' });
    const running = await until('every instance running after the restore', allRunning);
    // Past the agent timeout, with health passes running: a VM taken for dead would have been replaced.
    await new Promise((r) => setTimeout(r, 3_000));
    const a = await api();
    const login = await slipway(
      'login',
      '-a',
      server.url,
      '-u',
      'admin',
      '-p',
      PASSWORD,
      '--ca-cert',
      join(home, 'ca.pem'),
    );
    expect(login.code, login.stderr).toBe(0);
    for (const name of CLUSTERS) {
      expect(running[name]!.map((i) => i.state)).toEqual(['running', 'running']);
      const tasks = (await a.call<Task[]>('GET', `/v1/tasks?cluster=${name}`, { token: a.token })).body;
      expect(
        tasks.map((t) => t.type),
        `${name}: no task since the restore, no RESURRECT`,
      ).toEqual(['CREATE']);
      const kubeconfig = await slipway('get-credentials', name);
      expect(kubeconfig.code, `the restored credential store opens: ${kubeconfig.stderr}`).toBe(0);
    }
    expect(
      Object.values(running)
        .flat()
        .map((i) => i.vm_cid)
        .sort(),
    ).toEqual(vmsBefore);
    expect(await cloudVmIds(), 'no VM recreated').toEqual([...vmsBefore, unknownVm].sort());

    // doctor reconciles the store with the cloud: beta agrees; alpha's worker made after the backup is a leftover.
    const beta = (await a.call<{ problems: unknown[] }>('GET', '/v1/clusters/beta/doctor', { token: a.token })).body;
    expect(beta.problems).toEqual([]);
    const alpha = (
      await a.call<{ problems: Array<{ type: string; description: string }> }>('GET', '/v1/clusters/alpha/doctor', {
        token: a.token,
      })
    ).body;
    expect(alpha.problems.map((p) => p.type)).toContain('orphan_vm');
    expect(alpha.problems.find((p) => p.type === 'orphan_vm')!.description).toContain(unknownVm);
    const fixed = await slipway('doctor', 'alpha', '--yes');
    expect(fixed.code, fixed.stdout + fixed.stderr).toBe(0);
    expect(
      (await a.call<{ problems: unknown[] }>('GET', '/v1/clusters/alpha/doctor', { token: a.token })).body.problems,
    ).toEqual([]);
    expect(await cloudVmIds()).toEqual(vmsBefore);
    expect(await allRunning(), 'every instance still running after the repair').toBeDefined();
  }, 180_000);

  it('refuses a restore with another key, naming both keys, and leaves the home untouched', async () => {
    const otherKeys = join(root, 'other-keys');
    mkdirSync(otherKeys, { mode: 0o700 });
    writeFileSync(join(otherKeys, 'credhub-encryption.key'), randomBytes(32).toString('base64'), { mode: 0o600 });
    const target = join(root, 'second-home');
    const before = snapshot(target);
    const refused = await slipway('restore', '--from', backupDir, '--home', target, '--keys', otherKeys);
    expect(refused.code).toBe(1);
    const manifest = JSON.parse(readFileSync(join(backupDir, 'manifest.json'), 'utf8'));
    const needed = manifest.plugins.find((p: { kind: string }) => p.kind === 'credentials').key_ids[0];
    expect(refused.stderr).toContain(`sealed under key ${needed}`);
    expect(refused.stderr).toContain(join(otherKeys, 'credhub-encryption.key'));
    expect(refused.stderr).toMatch(/Nothing was restored; the home is unchanged/);
    expect(snapshot(target)).toEqual(before);

    // A restore onto the live home refuses too: it names the running control plane's pid.
    const busy = await slipway('restore', '--from', backupDir, '--home', home, '--force');
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain(`pid ${server!.child.pid}`);

    // A damaged backup is refused before anything else, naming the file.
    const damaged = join(root, 'backups', 'damaged');
    cpSync(backupDir, damaged, { recursive: true });
    writeFileSync(join(damaged, 'slipway.yaml'), `${readFileSync(join(damaged, 'slipway.yaml'), 'utf8')}# edited\n`);
    const bad = await slipway('restore', '--from', damaged, '--home', target);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('is damaged: slipway.yaml has sha256');
    expect(snapshot(target)).toEqual(before);
  }, 60_000);
});
