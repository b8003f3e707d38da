import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, cliRunner, freePort, startServer, type ServerProcess } from './support/server.js';

const PASSWORD = 'keepalive-admin-pw';
// Short health intervals, and a slow createVm so a kill -9 lands in the middle of a resurrection.
const CONFIG = `
iaas:
  - name: sandbox
    plugin: "@slipway/iaas-sandbox"
    config: { boot_delay_ms: 50, latency_ms: { default: 3, createVm: 400 } }
network: { plugin: "@slipway/network-flat", config: { ranges: { sandbox: { cidr: 10.31.0.0/24 } } } }
agents: { heartbeat_interval_seconds: 0.2, boot_timeout_seconds: 30 }
health: { agent_timeout_seconds: 1, analyze_interval_seconds: 0.2, cloud_check_interval_seconds: 0.5 }
plans:
  - name: small
    iaas: sandbox
    master_instances: 1
    worker_instances: 2
    max_worker_instances: 5
    master_vm: { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384, persistent_disk_mb: 10240 }
    worker_vm: { cpu: 2, memory_mb: 8192, ephemeral_disk_mb: 32768, persistent_disk_mb: 20480 }
    kubernetes: { require_api: false }
`;
// What docs/configuration.md states for this config: missing within cloud_check_interval + analyze_interval.
const MISSING_BOUND_MS = 500 + 200;

const home = mkdtempSync(join(tmpdir(), 'slipway-keepalive-'));
const state = join(home, 'state');
const configPath = join(home, 'slipway.yaml');
const env = { ...process.env, SLIPWAY_CLI_CONFIG: join(home, 'cli.json'), HOME: home };
let server: ServerProcess;
let port: number;

/** The compiled `slipway` command with this test's environment (its own home, CLI config and HOME). */
const slipway = cliRunner(env);

async function api() {
  const client = apiClient(server.url, join(state, 'ca.pem'));
  return { ...client, token: await client.login('admin', PASSWORD) };
}

interface Instance {
  id: string;
  name: string;
  vm_cid: string;
  ip: string;
  state: string;
  persistent_disk: { disk_cid: string; mounted: boolean } | null;
}

/** A sandbox VM's store directory, where its agent links the persistent disk (a real VM's /var/vcap/store). */
const storeDir = (vmId: string) => join(state, 'plugins', 'iaas', 'sandbox', 'sandbox.json.vms', vmId, 'store');

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  writeFileSync(configPath, CONFIG);
  port = await freePort();
  server = await startServer({ home: state, port, password: PASSWORD, config: configPath });
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

describe('keeping clusters alive, with the real server and CLI', () => {
  it('recreates a killed worker with its disk and address, even across a kill -9 of the control plane mid-resurrection', async () => {
    const created = await slipway(
      'create-cluster',
      'life',
      '--plan',
      'small',
      '--external-hostname',
      'life.example.test',
      '--wait',
    );
    expect(created.code, created.stderr).toBe(0);
    let a = await api();
    const before = (await a.call<Instance[]>('GET', '/v1/clusters/life/instances', { token: a.token })).body;
    const victim = before.find((i) => i.name === 'worker/0')!;
    const inventory0 = (
      await a.call<{ disks: Array<{ diskId: string; vmId?: string }> }>('GET', '/v1/sandbox/sandbox/inventory', {
        token: a.token,
      })
    ).body;
    const diskId = inventory0.disks.find((d) => d.vmId === victim.vm_cid)!.diskId;
    expect(victim.persistent_disk).toEqual(expect.objectContaining({ disk_cid: diskId, mounted: true }));
    writeFileSync(join(storeDir(victim.vm_cid), 'member-data'), 'written before the failure');

    // The kill goes through the API so that its moment is known to the millisecond; the CLI's kill-vm is the next test's.
    const killedAt = Date.now();
    const kill = await a.call('POST', `/v1/sandbox/sandbox/vms/${victim.vm_cid}/kill`, { token: a.token });
    expect(kill.status).toBe(204);
    // The instance is 'missing' only until the resurrection's recreate step starts (tens of ms): the event stays.
    const missing = await until('the instance.missing event of worker/0', async () =>
      (
        await a.call<Array<{ at: string; kind: string; instance: string | null }>>('GET', '/v1/clusters/life/events', {
          token: a.token,
        })
      ).body.find((e) => e.kind === 'instance.missing' && e.instance === 'worker/0'),
    );
    // Timed by the server's own clock, so polling adds nothing; slack for timers on a loaded 2-core CI machine.
    expect(Date.parse(missing.at) - killedAt).toBeLessThanOrEqual(MISSING_BOUND_MS + 500);

    const task = await until('the resurrection in its recreate step', async () => {
      const tasks = (
        await a.call<Array<{ id: number; type: string; state: string; steps: Array<{ name: string; state: string }> }>>(
          'GET',
          '/v1/tasks?cluster=life',
          { token: a.token },
        )
      ).body;
      const t = tasks.find((x) => x.type === 'RESURRECT' && x.state === 'processing');
      return t?.steps.some((s) => s.name === 'recreate' && s.state === 'running') ? t : undefined;
    });
    await new Promise((r) => setTimeout(r, 150)); // inside the slow createVm
    await server.crash();
    server = await startServer({ home: state, port, password: PASSWORD, config: configPath });
    a = await api();
    const done = await until(
      'the resumed resurrection to end',
      async () => {
        const t = (
          await a.call<{ state: string; log: Array<{ message: string }> }>('GET', `/v1/tasks/${task.id}`, {
            token: a.token,
          })
        ).body;
        return ['done', 'error', 'cancelled'].includes(t.state) ? t : undefined;
      },
      60_000,
    );
    expect(done.state).toBe('done');
    expect(done.log.some((l) => l.message === 'resumed after a restart of the control plane')).toBe(true);

    const after = (await a.call<Instance[]>('GET', '/v1/clusters/life/instances', { token: a.token })).body;
    const back = after.find((i) => i.name === 'worker/0')!;
    expect(back).toMatchObject({ state: 'running', ip: victim.ip });
    expect(back.vm_cid).not.toBe(victim.vm_cid);
    expect(back.persistent_disk).toEqual(expect.objectContaining({ disk_cid: diskId, mounted: true }));
    expect(readFileSync(join(storeDir(back.vm_cid), 'member-data'), 'utf8')).toBe('written before the failure');
    const inventory = (
      await a.call<{ vms: Array<{ vmId: string }>; disks: Array<{ diskId: string; vmId?: string }> }>(
        'GET',
        '/v1/sandbox/sandbox/inventory',
        { token: a.token },
      )
    ).body;
    expect(inventory.vms.map((v) => v.vmId).sort()).toEqual(after.map((i) => i.vm_cid).sort()); // no second VM
    expect(inventory.disks.find((d) => d.diskId === diskId)?.vmId).toBe(back.vm_cid);

    const details = await slipway('cluster', 'life', '--details');
    expect(details.code, details.stderr).toBe(0);
    expect(details.stdout).toMatch(
      new RegExp(`worker/0\\s+${back.vm_cid}\\s+${victim.ip.replace(/\./g, '\\.')}.*${diskId} mounted`),
    );
    expect(details.stdout).toContain('instance.missing');
    expect(details.stdout).toMatch(/resurrection\.done\s+worker\/0 resurrected/);
    const report = await slipway('doctor', 'life', '--report');
    expect(report.code, report.stdout + report.stderr).toBe(0);
    expect(report.stdout).toContain('No problems');
  }, 180_000);

  it('turns resurrection off and on from the CLI, and repairs with slipway doctor --yes', async () => {
    const off = await slipway('resurrection', 'life', 'off');
    expect(off.code, off.stderr).toBe(0);
    expect(off.stdout).toMatch(/Resurrection:\s+off \(set for this cluster by admin\)/);
    const a = await api();
    const victim = (await a.call<Instance[]>('GET', '/v1/clusters/life/instances', { token: a.token })).body.find(
      (i) => i.name === 'worker/1',
    )!;
    await slipway('sandbox', 'kill-vm', victim.vm_cid);
    await until(
      'worker/1 missing',
      async () =>
        (await a.call<Instance[]>('GET', '/v1/clusters/life/instances', { token: a.token })).body.find(
          (i) => i.name === 'worker/1',
        )?.state === 'missing',
    );

    const report = await slipway('doctor', 'life', '--report');
    expect(report.code).toBe(1);
    expect(report.stdout).toMatch(
      /missing_vm\s+worker\/1\s+worker\/1: VM \S+ is in the store but not in the cloud\s+recreate_vm \| ignore/,
    );
    const alerts = await slipway('alerts', '--cluster', 'life');
    expect(alerts.stdout).toMatch(/worker\/1 of cluster life is down and resurrection is off/);

    const fix = await slipway('doctor', 'life', '--yes');
    expect(fix.code, fix.stdout + fix.stderr).toBe(0);
    expect(fix.stdout).toContain('Cluster life: the store and the cloud agree again.');
    const back = (await a.call<Instance[]>('GET', '/v1/clusters/life/instances', { token: a.token })).body.find(
      (i) => i.name === 'worker/1',
    )!;
    expect(back).toMatchObject({ state: 'running', ip: victim.ip });
    const on = await slipway('resurrection', 'life', 'on');
    expect(on.stdout).toMatch(/Resurrection:\s+on/);
  }, 120_000);

  it('recreates nothing when slipway up itself is paused (SIGSTOP) for twice the agent timeout', async () => {
    const a = await api();
    const instances = async () =>
      (await a.call<Instance[]>('GET', '/v1/clusters/life/instances', { token: a.token })).body;
    const resurrections = async () =>
      (await a.call<Array<{ type: string }>>('GET', '/v1/tasks?cluster=life', { token: a.token })).body.filter(
        (t) => t.type === 'RESURRECT',
      ).length;
    await until('every instance running', async () => (await instances()).every((i) => i.state === 'running'));
    const before = await resurrections();
    const vms = (await instances()).map((i) => i.vm_cid).sort();
    const logged = server.output().length;

    // The whole control plane stops (agents cannot heartbeat to it meanwhile) for 2 s, twice agent_timeout.
    server.child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 2_000));
    server.child.kill('SIGCONT');
    await new Promise((r) => setTimeout(r, 3_000));

    expect(server.output().slice(logged)).toMatch(/the health monitor ran late: the control plane was paused/);
    expect(await resurrections(), 'no resurrection after the pause').toBe(before);
    expect((await instances()).map((i) => i.vm_cid).sort(), 'the same VMs').toEqual(vms);
    const events = (
      await a.call<Array<{ kind: string; at: string }>>('GET', '/v1/clusters/life/events', { token: a.token })
    ).body;
    expect(events.filter((e) => e.kind === 'instance.unresponsive' && Date.parse(e.at) > Date.now() - 6_000)).toEqual(
      [],
    );
  }, 60_000);
});
